using System.Text.Json;
using System.Text.Json.Serialization;
using Simulator.Config;
using Simulator.Metrics;
using Simulator.Runs;
using Simulator.Specs;
using Simulator.Workload;

namespace Simulator.Output;

/// <summary>
/// Writes one run's files into a folder: requests.csv, iterations.csv, gpus.csv, links.csv,
/// transfers.csv, kv_pool.csv, summary.csv, summary.json and config.resolved.yaml (and trace.json when
/// <c>metrics.trace</c> asks for it). Plotting is
/// separate (<see cref="Plots.FigureSet"/>).
/// </summary>
public static class ResultsWriter
{
    public const string RequestsFile = "requests.csv";
    public const string IterationsFile = "iterations.csv";
    public const string SummaryCsvFile = "summary.csv";
    public const string SummaryJsonFile = "summary.json";
    public const string ResolvedConfigFile = "config.resolved.yaml";
    public const string GpusFile = "gpus.csv";
    public const string LinksFile = "links.csv";
    public const string TransfersFile = "transfers.csv";
    public const string PoolFile = "kv_pool.csv";

    /// <summary>Notes on how the run was priced; written only when there are any.</summary>
    public const string NotesFile = "notes.txt";

    /// <summary>Wall-clock measurements (scheduling overhead, run time): the one file that differs between identical runs.</summary>
    public const string TimingFile = "timing.json";

    /// <summary>Wall-clock time of the policy's scheduling decisions as a log-bucket histogram (not deterministic either).</summary>
    public const string SchedulingHistogramFile = "scheduling_histogram.csv";

    /// <summary>The files of a run that hold wall-clock measurements; every other file is byte-identical for the same config and seed.</summary>
    public static IReadOnlyList<string> WallClockFiles { get; } = [TimingFile, SchedulingHistogramFile];

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static void Write(string dir, RunResult result)
    {
        var (config, workload, metrics, summary) = (result.Run.Config, result.Run.Workload, result.Metrics, result.Summary);
        IReadOnlyList<string> notes = metrics.KeepsIterations ? result.Notes
            : [.. result.Notes, "iterations.csv holds no rows: metrics.iteration_records is false (the summary's iteration statistics cover every pass)"];
        if (metrics.Observer is Tracing.TraceRecorder trace)
        {
            Tracing.TraceWriter.Write(Path.Combine(dir, Tracing.TraceWriter.FileName), trace, config.Name, config.Policy.Name, config.Seed);
            if (trace.LeftOut() is { } leftOut) notes = [.. notes, $"{Tracing.TraceWriter.FileName} left out {leftOut}"];
        }
        if (notes.Count > 0) File.WriteAllLines(Path.Combine(dir, NotesFile), notes);
        File.WriteAllText(Path.Combine(dir, ResolvedConfigFile), ConfigWriter.ToYaml(config));
        WriteRequests(Path.Combine(dir, RequestsFile), metrics);
        WriteIterations(Path.Combine(dir, IterationsFile), metrics.Iterations);
        CsvTable.Write(Path.Combine(dir, GpusFile), ["gpu", "node", "local_index", "role", "iterations", "busy_s", "bubble_s", "waiting_for_kv_s"],
            metrics.Gpus, g => [g.Gpu, g.Node, g.LocalIndex, g.RoleName, g.Iterations, Units.Seconds(g.BusyNs), Units.Seconds(g.BubbleNs), Units.Seconds(g.WaitingForKvNs)]);
        var makespanNs = Units.Ns(summary.MakespanS);
        CsvTable.Write(Path.Combine(dir, LinksFile), ["link", "kind", "bandwidth_gb_per_s", "bytes", "utilisation"], result.Links,
            l => [l.Name, l.Kind, l.BytesPerNs, l.BytesCarried, makespanNs > 0 ? l.BytesCarried / (l.BytesPerNs * makespanNs) : 0]);
        CsvTable.Write(Path.Combine(dir, TransfersFile), ["request", "kind", "from", "to", "bytes", "start_s", "end_s"], metrics.Transfers,
            t => [t.Request, t.Kind, t.From, t.To, t.Bytes, Units.Seconds(t.StartNs), Units.Seconds(t.EndNs)]);
        CsvTable.Write(Path.Combine(dir, PoolFile), ["time_s", "node", "used_bytes"], metrics.PoolSamples,
            p => [Units.Seconds(p.TimeNs), p.Node, p.UsedBytes]);
        var decisions = metrics.Scheduling;
        var timing = new
        {
            note = "wall-clock measurements on the simulating machine; not deterministic; decision percentiles are upper bounds of the buckets of scheduling_histogram.csv (within 12%); standing_passes ran a standing batch (engine.lazy_decode): the policy formed no batch for them, so they have no decision time (a decision that only pulled KV in beside a standing batch is counted)",
            simulation_wall_s = result.WallSeconds,
            standing_passes = metrics.StandingPasses,
            scheduling_us = decisions.Summary(),
            scheduling_max_us = decisions.MaxUs,
            scheduling_under_5ms_share = decisions.Count > 0 ? decisions.Under5Ms / (double)decisions.Count : 1,
        };
        File.WriteAllText(Path.Combine(dir, TimingFile), JsonSerializer.Serialize(timing, Json) + "\n");
        CsvTable.Write(Path.Combine(dir, SchedulingHistogramFile), ["upper_us", "decisions"], decisions.Histogram(), b => [b.UpperUs, b.Count]);
        var header = new RunHeader(config.Name, config.Policy.Name, config.Model.Name, config.Node.Gpu.Name, config.Seed);
        File.WriteAllText(Path.Combine(dir, SummaryJsonFile), JsonSerializer.Serialize(new { run = header, workload, summary }, Json) + "\n");
        CsvTable.Write(Path.Combine(dir, SummaryCsvFile), ["metric", "value"], Flatten(header, workload, summary), kv => [kv.Key, kv.Value]);
    }

    private sealed record RunHeader(string Experiment, string Policy, string Model, string Gpu, long Seed);

    private static void WriteRequests(string path, MetricsRecorder m)
    {
        string[] header = ["id", "arrival_s", "prompt_tokens", "output_tokens", "first_token_s", "finish_s", "ttft_s", "tpot_s", "e2e_s", "preemptions",
            "second_token_s", "pool_wait_s", "itl_s"];
        CsvTable.Write(path, header, m.Requests, r =>
        {
            var first = m.FirstTokenNs[r.Id];
            var finish = m.FinishNs[r.Id];
            var tpot = r.OutputTokens > 1 ? Units.Seconds(finish - first) / (r.OutputTokens - 1) : double.NaN;
            var (poolWait, itl) = RequestLatency.Decoding(m, r.Id, r.OutputTokens);
            var second = m.SecondTokenNs[r.Id];
            return [r.Id, Units.Seconds(r.ArrivalNs), r.PromptTokens, r.OutputTokens, Units.Seconds(first), Units.Seconds(finish),
                Units.Seconds(first - r.ArrivalNs), tpot, Units.Seconds(finish - r.ArrivalNs), m.Preemptions[r.Id],
                second < 0 ? double.NaN : Units.Seconds(second), poolWait, itl];
        });
    }

    private static void WriteIterations(string path, IReadOnlyList<IterationRecord> iterations)
    {
        string[] header = ["gpu", "start_s", "duration_s", "seqs", "prefill_seqs", "new_tokens", "kv_tokens_sum", "kv_tokens_max",
            "dense_s", "decode_attention_s", "prefill_attention_s", "bubble_s", "kv_blocks_used", "waiting", "preempted", "batches_coexist", "host_s", "new_batch"];
        CsvTable.Write(path, header, iterations, it =>
        [
            it.Gpu, Units.Seconds(it.StartNs), Units.Seconds(it.DurationNs), it.Seqs, it.PrefillSeqs, it.NewTokens, it.KvTokensSum,
            it.KvTokensMax, Units.Seconds(it.DenseNs), Units.Seconds(it.DecodeAttentionNs), Units.Seconds(it.PrefillAttentionNs),
            Units.Seconds(it.BubbleNs), it.KvBlocksUsed, it.Waiting, it.Preempted, it.BatchSwitch ? 1 : 0, Units.Seconds(it.HostNs),
            it.NewBatch ? 1 : 0,
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
