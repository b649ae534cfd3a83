using System.Text.Json;
using System.Text.Json.Serialization;
using Simulator.Config;
using Simulator.Metrics;
using Simulator.Specs;
using Simulator.Workload;

namespace Simulator.Output;

/// <summary>
/// Writes one run's files into a folder: requests.csv, iterations.csv, summary.csv,
/// summary.json and config.resolved.yaml. Plotting is separate (<see cref="Plots.FigureSet"/>).
/// </summary>
public static class ResultsWriter
{
    public const string RequestsFile = "requests.csv";
    public const string IterationsFile = "iterations.csv";
    public const string SummaryCsvFile = "summary.csv";
    public const string SummaryJsonFile = "summary.json";
    public const string ResolvedConfigFile = "config.resolved.yaml";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static void Write(string dir, ExperimentConfig config, WorkloadStats workload, MetricsRecorder metrics, RunSummary summary)
    {
        File.WriteAllText(Path.Combine(dir, ResolvedConfigFile), ConfigWriter.ToYaml(config));
        WriteRequests(Path.Combine(dir, RequestsFile), metrics);
        WriteIterations(Path.Combine(dir, IterationsFile), metrics.Iterations);
        var header = new RunHeader(config.Name, config.Policy.Name, config.Model.Name, config.Node.Gpu.Name, config.Seed);
        File.WriteAllText(Path.Combine(dir, SummaryJsonFile), JsonSerializer.Serialize(new { run = header, workload, summary }, Json) + "\n");
        CsvTable.Write(Path.Combine(dir, SummaryCsvFile), ["metric", "value"], Flatten(header, workload, summary), kv => [kv.Key, kv.Value]);
    }

    private sealed record RunHeader(string Experiment, string Policy, string Model, string Gpu, long Seed);

    private static void WriteRequests(string path, MetricsRecorder m)
    {
        string[] header = ["id", "arrival_s", "prompt_tokens", "output_tokens", "first_token_s", "finish_s", "ttft_s", "tpot_s", "e2e_s", "preemptions"];
        CsvTable.Write(path, header, m.Requests, r =>
        {
            var first = m.FirstTokenNs[r.Id];
            var finish = m.FinishNs[r.Id];
            var tpot = r.OutputTokens > 1 ? Units.Seconds(finish - first) / (r.OutputTokens - 1) : double.NaN;
            return [r.Id, Units.Seconds(r.ArrivalNs), r.PromptTokens, r.OutputTokens, Units.Seconds(first), Units.Seconds(finish),
                Units.Seconds(first - r.ArrivalNs), tpot, Units.Seconds(finish - r.ArrivalNs), m.Preemptions[r.Id]];
        });
    }

    private static void WriteIterations(string path, IReadOnlyList<IterationRecord> iterations)
    {
        string[] header = ["index", "start_s", "duration_s", "seqs", "prefill_seqs", "new_tokens", "kv_tokens_sum", "kv_tokens_max",
            "dense_s", "decode_attention_s", "prefill_attention_s", "bubble_s", "kv_blocks_used", "waiting", "preempted"];
        CsvTable.Write(path, header, iterations, it =>
        [
            it.Index, Units.Seconds(it.StartNs), Units.Seconds(it.DurationNs), it.Seqs, it.PrefillSeqs, it.NewTokens, it.KvTokensSum,
            it.KvTokensMax, Units.Seconds(it.DenseNs), Units.Seconds(it.DecodeAttentionNs), Units.Seconds(it.PrefillAttentionNs),
            Units.Seconds(it.BubbleNs), it.KvBlocksUsed, it.Waiting, it.Preempted,
        ]);
    }

    /// <summary>The JSON summary's leaves as dotted metric names, in the JSON's order.</summary>
    private static IEnumerable<KeyValuePair<string, object>> Flatten(RunHeader header, WorkloadStats workload, RunSummary summary)
    {
        var doc = JsonSerializer.SerializeToElement(new { run = header, workload, summary }, Json);
        return Leaves(doc, "");
    }

    private static IEnumerable<KeyValuePair<string, object>> Leaves(JsonElement element, string prefix)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            yield return new(prefix, element.ValueKind == JsonValueKind.String ? element.GetString()! : element.GetRawText());
            yield break;
        }
        foreach (var property in element.EnumerateObject())
            foreach (var leaf in Leaves(property.Value, prefix.Length == 0 ? property.Name : $"{prefix}.{property.Name}"))
                yield return leaf;
    }
}
