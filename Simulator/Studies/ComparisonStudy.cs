using Simulator.Metrics;
using Simulator.Output;
using Simulator.Runs;

namespace Simulator.Studies;

/// <summary>One run of a comparison.</summary>
public sealed record ComparisonRow(string Workload, string Variant, string Policy, int Requests, RunSummary Summary);

/// <summary>Runs a <see cref="ComparisonConfig"/>: the runs are independent, so they use all cores; rows come back in config order.</summary>
public static class ComparisonStudy
{
    public const string TableFile = "comparison.csv";

    public static IReadOnlyList<ComparisonRow> Run(ComparisonConfig config, CancellationToken cancel = default)
    {
        var pairs = config.Workloads.SelectMany(w => config.Variants.Select(v => (w, v))).ToList();
        var rows = new ComparisonRow[pairs.Count];
        Parallel.For(0, pairs.Count, new ParallelOptions { CancellationToken = cancel }, i =>
        {
            var (workload, variant) = pairs[i];
            var prepared = PreparedRun.From(config.Experiment(variant, workload)!);
            if (config.MaxRequestsPerRun is { } cap && prepared.Requests.Length > cap)
                prepared = prepared with { Requests = prepared.Requests[..cap] };
            var result = SingleRun.Execute(prepared, cancel: cancel);
            rows[i] = new ComparisonRow(workload.Label, variant.Label, variant.Policy.Name, prepared.Requests.Length, result.Summary);
        });
        return rows;
    }

    public static void Write(string dir, IReadOnlyList<ComparisonRow> rows)
    {
        string[] header = ["workload", "variant", "policy", "requests", "decode_throughput_tokens_per_s", "request_throughput_per_s",
            "ttft_mean_s", "ttft_p99_s", "tpot_mean_s", "tpot_p99_s", "e2e_p99_s", "iteration_p50_s", "iteration_p90_s",
            "iteration_bubble_fraction", "batch_bubble_fraction", "request_bubble_fraction", "batch_switch_iteration_share", "preemptions", "kv_transferred_gib"];
        CsvTable.Write(Path.Combine(dir, TableFile), header, rows, r =>
        [
            r.Workload, r.Variant, r.Policy, r.Requests, r.Summary.DecodeThroughputTokensPerS, r.Summary.RequestThroughputPerS,
            r.Summary.TtftS.Mean, r.Summary.TtftS.P99, r.Summary.TpotS.Mean, r.Summary.TpotS.P99, r.Summary.E2eS.P99,
            r.Summary.IterationTimeS.P50, r.Summary.IterationTimeS.P90, r.Summary.IterationBubbleFraction, r.Summary.BatchBubbleFraction,
            r.Summary.RequestBubbleFraction, r.Summary.BatchSwitchIterationShare, r.Summary.Preemptions, r.Summary.KvTransferredGib,
        ]);
    }
}
