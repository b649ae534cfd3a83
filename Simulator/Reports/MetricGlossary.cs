namespace Simulator.Reports;

/// <summary>
/// Labels and definitions of the metrics of summary.csv (DESIGN section 6, README "Results and figures"), keyed by
/// the name without the <c>summary.</c> prefix. A metric not listed here still appears in a report, under its
/// name with no definition, so columns added later show without a template edit.
/// </summary>
public static class MetricGlossary
{
    private static readonly Dictionary<string, (string Label, string Definition)> Known = new(StringComparer.Ordinal)
    {
        ["requests"] = ("requests", "requests in the workload"),
        ["finished"] = ("finished", "requests that finished within the run"),
        ["generated_tokens"] = ("generated tokens", "output tokens of the finished requests"),
        ["iterations"] = ("forward passes", "forward passes (iterations) over all GPUs"),
        ["preemptions"] = ("preemptions", "times a running request was preempted (its KV freed or swapped out)"),
        ["makespan_s"] = ("makespan", "last finish - first arrival"),
        ["decode_throughput_tokens_per_s"] = ("decode throughput", "generated tokens / makespan"),
        ["request_throughput_per_s"] = ("request throughput", "finished requests / makespan"),
        ["ttft_s"] = ("TTFT", "time to first token: first token - arrival, per finished request"),
        ["tpot_s"] = ("TPOT", "time per output token: (last token - first token) / (output tokens - 1), over requests with more than one output token"),
        ["itl_s"] = ("inter-token latency", "decode inter-token latency: (finish - second token) / (output tokens - 2), over requests with more than two output tokens"),
        ["pool_wait_s"] = ("pool wait", "first token (end of prefill) to second token (first decode step): hand-off, wait in the host pool or behind other passes, and the first decode pass"),
        ["pool_wait_max_s"] = ("longest pool wait", "the longest pool wait of any request (the starvation guard bounds it)"),
        ["e2e_s"] = ("E2E latency", "finish - arrival, per finished request"),
        ["iteration_time_s"] = ("iteration time", "duration of each forward pass, over all GPUs"),
        ["gpu_busy_s"] = ("GPU busy time", "time the GPUs spent in forward passes, summed over GPUs"),
        ["gpu_busy_fraction"] = ("GPU busy share", "GPU busy time / (makespan x GPUs)"),
        ["iteration_bubble_fraction"] = ("iteration-level bubble",
            "share of decode-GPU time in which attention ran beyond the time the same bytes would take perfectly balanced over the GPU"),
        ["batch_bubble_fraction"] = ("batch-level bubble", "share of decode-GPU time idle while a batch's pulled KV was on its way"),
        ["request_bubble_fraction"] = ("request-level bubble", "share of decode-GPU time idle with nothing to run"),
        ["kv_blocks_per_gpu"] = ("KV blocks per GPU", "KV cache blocks that fit on each GPU after weights and activations"),
        ["peak_kv_blocks_used"] = ("peak KV blocks used", "most KV blocks in use on one GPU at once"),
        ["kv_transfers"] = ("KV transfers", "KV copies between GPUs and host memory"),
        ["kv_transferred_gib"] = ("KV moved", "bytes of KV copied, in GiB"),
        ["host_pool_capacity_gib"] = ("host pool capacity", "host memory given to the KV pool per node, in GiB"),
        ["host_pool_peak_gib"] = ("host pool peak", "most KV held in the fullest node's host pool, in GiB"),
        ["host_pool_mean_gib"] = ("host pool mean", "time-weighted mean KV in the fullest node's host pool over the makespan, in GiB"),
        ["batch_switch_iteration_share"] = ("batch-switch passes", "share of decode-GPU passes that brought a new batch in (the paper's count)"),
        ["batch_coexist_iteration_share"] = ("passes with two batches", "share of decode-GPU passes in which an old batch's remainder ran beside a new batch"),
        ["busy_fraction_by_role"] = ("busy share of {0} GPUs", "busy time of the {0} GPUs / (makespan x their count)"),
        ["link_utilisation"] = ("{0} link {1}", "per link class: links, bytes carried, and mean and max of carried bytes / (bandwidth x makespan)"),
        ["workload"] = ("workload {0}", "the workload's row counts as read (rows read, kept, skipped, dropped, clipped)"),
    };

    /// <summary>Metrics a run's page lists first, in this order, when present.</summary>
    public static IReadOnlyList<string> Headline { get; } =
    [
        "decode_throughput_tokens_per_s", "request_throughput_per_s", "makespan_s", "finished", "generated_tokens", "gpu_busy_fraction",
        "iteration_bubble_fraction", "batch_bubble_fraction", "request_bubble_fraction", "preemptions", "kv_transferred_gib", "host_pool_peak_gib",
    ];

    /// <summary>The label and definition of a metric; unknown names are their own label with an empty definition.</summary>
    public static (string Label, string Definition) Describe(string metric)
    {
        if (Known.TryGetValue(metric, out var known)) return known;
        var parts = metric.Split('.');
        if (parts.Length > 1 && Known.TryGetValue(parts[0], out var family) && family.Label.Contains("{0}", StringComparison.Ordinal))
        {
            var rest = parts.Skip(1).Select(p => p.Replace('_', ' ')).Concat(["", ""]).ToArray();
            return (string.Format(System.Globalization.CultureInfo.InvariantCulture, family.Label, rest).Trim(),
                string.Format(System.Globalization.CultureInfo.InvariantCulture, family.Definition, rest));
        }
        return (metric, "");
    }

    /// <summary>The unit a metric's name carries (<c>_s</c>, <c>_gib</c>, <c>_per_s</c>, <c>_fraction</c>), for display.</summary>
    public static string Unit(string metric)
    {
        var last = metric.Split('.')[0];
        return last.EndsWith("_tokens_per_s", StringComparison.Ordinal) ? "tok/s"
            : last.EndsWith("_per_s", StringComparison.Ordinal) ? "/s"
            : last.EndsWith("_gib", StringComparison.Ordinal) ? "GiB"
            : last.EndsWith("_s", StringComparison.Ordinal) ? "s"
            : "";
    }
}
