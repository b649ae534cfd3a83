using System.Diagnostics;
using Simulator.Runs;

namespace Simulator.Bench;

/// <summary>
/// A fleet: 16 nodes of 8 H100s behind a least-outstanding router, OPT-13B, a synthetic stream of
/// requests (lognormal prompts median 500 tokens, outputs median 150; Poisson at 600 per second),
/// with vllm on 8 colocated GPUs per node or aligned on 4 prefill + 4 decode. One run, no warm-up.
/// </summary>
public static class FleetBenchmark
{
    public static ServingBenchmark.Figure Measure(string policy, int requests)
    {
        var deployment = policy == "aligned"
            ? "{ nodes: 16, gpus: [{ role: prefill, count: 4 }, { role: decode, count: 4 }], handoff: host_pool }"
            : "{ nodes: 16, gpus: [{ role: colocated, count: 8 }] }";
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var watch = Stopwatch.StartNew();
        var prepared = ServingBenchmark.Prepare($$"""
            name: fleet-{{policy}}
            seed: 11
            model: opt-13b
            node: dgx-h100
            policy: {{policy}}
            deployment: {{deployment}}
            workload:
              kind: synthetic
              num_requests: {{requests}}
              arrival: { process: poisson, rate_per_s: 600 }
              prompt: { dist: lognormal, median: 500, sigma: 1.0, min: 16, max: 8000 }
              output: { dist: lognormal, median: 150, sigma: 0.8, min: 4, max: 1000 }
            metrics: { iteration_records: false }   # a fleet run keeps aggregates, not 100 bytes per pass
            """);
        var result = SingleRun.Execute(prepared);
        watch.Stop();
        using var process = Process.GetCurrentProcess();
        return new ServingBenchmark.Figure(prepared.Config.Name, requests, result.Metrics.IterationCount, result.Summary.MakespanS,
            watch.Elapsed.TotalSeconds, GC.GetTotalAllocatedBytes(precise: true) - allocated, process.PeakWorkingSet64);
    }
}
