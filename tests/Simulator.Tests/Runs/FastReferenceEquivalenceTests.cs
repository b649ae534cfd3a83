using Simulator.Config;
using Simulator.Metrics;
using Simulator.Runs;
using Xunit.Abstractions;

namespace Simulator.Tests.Runs;

/// <summary>
/// Exactness is not traded for speed: one experiment in the fast configuration (standing decode
/// batches, i.e. lazy per-request state; the closed-form attention makespan; aggregate-only metrics:
/// <c>metrics.iteration_records: false</c>) and in the reference configuration (no lazy state:
/// <c>engine.lazy_decode: false</c>; the exact fluid schedule of every attention thread block; every
/// pass recorded). Standing batches alone change nothing, byte for byte (<see cref="Serving.StandingDecodeTests"/>);
/// the speed work with no switch (pooled pass timeouts, chunked record storage, percentiles by
/// selection, block-table lookups without hashing) is checked byte for byte by the golden tests.
/// What the closed form changes is bounded here.
/// <para>Stated tolerance: every request completes exactly once with all its tokens in both; the same
/// tokens are generated; passes within 1%; makespan, throughput, and mean/P50/P90/P99 of TPOT and E2E
/// within 3%; of pass time and TTFT within 5% (one pass's attention makespan is within the closed
/// form's per-batch tolerance, 10%, of the exact schedule, AttentionMakespanTests; a percentile can
/// sit where prefill and decode passes meet; at light load a TTFT is a pass or two); each request's
/// E2E within 3% at the median request and 5% at the 95th percentile. Split-KV with its published H100 rates
/// (one block per SM, so many waves) is held to the per-batch 10% for latencies and the P95 request.
/// (Measured on these runs: per-head and aligned TPOT, E2E and throughput at most 1.1% apart; split-KV throughput
/// 0.3%, TPOT P99 8.6%, TTFT 3.5-4.1%, per-request E2E median 2.1%, P95 6.7%.)</para>
/// </summary>
public sealed class FastReferenceEquivalenceTests(ITestOutputHelper output)
{
    private const double Tolerance = 0.03;

    private const double PassTolerance = 0.05;

    private const double SplitKvTolerance = 0.10;

    public static TheoryData<string, string[]> Experiments => new()
    {
        // Colocated vLLM under load: deep decode batches, thread-block waves, preemptions; per-head and split-KV kernels.
        { "vllm colocated", ["workload.num_requests=400", "workload.arrival.rate_per_s=40"] },
        { "vllm colocated split-kv", ["workload.num_requests=300", "cost_model.attention_kernel=split_kv"] },
        // AlignedServe disaggregated through the host pool: batch formation, prefetch, switches. Without the starvation guard: its
        // rule is a clock (a switch forced 5 s after pooling), so the closed form's pass times, within 1% here, move forced switches
        // by a pass and the runs part ways (TPOT mean 4.6% apart with it on); what this test bounds is the closed form.
        { "aligned 1P+1D", ["workload.num_requests=300", "workload.arrival.rate_per_s=20", "policy=aligned", "deployment.handoff=host_pool",
            "deployment.gpus=[{role: prefill, count: 1}, {role: decode, count: 1}]", "policy.starvation_guard_s=null"] },
    };

    [Theory]
    [MemberData(nameof(Experiments))]
    public void The_Fast_Configuration_Should_Match_The_Reference_Within_The_Stated_Tolerance(string label, string[] sets)
    {
        var fast = Execute([.. sets, "engine.lazy_decode=true", "cost_model.attention_mode=closed_form", "metrics.iteration_records=false"]);
        var reference = Execute([.. sets, "engine.lazy_decode=false", "cost_model.attention_mode=exact", "metrics.iteration_records=true"]);
        // Standing batches reproduce the per-head closed form; with split-KV every pass is formed (a partition boundary changes the blocks).
        if (!sets.Contains("cost_model.attention_kernel=split_kv")) Assert.True(fast.Metrics.StandingPasses > 0, "the fast configuration ran standing batches");
        Assert.Equal(0, reference.Metrics.StandingPasses);

        foreach (var run in new[] { fast, reference })
        {
            var m = run.Metrics;
            Assert.Equal(m.Requests.Count, m.Finished);
            for (var i = 0; i < m.Requests.Count; i++)
            {
                Assert.True(m.FinishNs[i] >= m.FirstTokenNs[i] && m.FirstTokenNs[i] >= m.Requests[i].ArrivalNs);
            }
        }
        // The reference computed every request's tokens (the fast run keeps no pass records to count them from).
        Metrics.ComputedTokens.AssertEveryTokenComputed(reference.Metrics);
        var (f, r) = (fast.Summary, reference.Summary);
        output.WriteLine($"{label}: passes {f.Iterations} vs {r.Iterations}, makespan {f.MakespanS:F3} vs {r.MakespanS:F3} s");
        Assert.Equal(r.GeneratedTokens, f.GeneratedTokens);
        Assert.Equal(r.Finished, f.Finished);
        Assert.InRange(f.Iterations, r.Iterations * 0.99, r.Iterations * 1.01);
        Close("makespan", f.MakespanS, r.MakespanS);
        Close("decode throughput", f.DecodeThroughputTokensPerS, r.DecodeThroughputTokensPerS);
        Close("request throughput", f.RequestThroughputPerS, r.RequestThroughputPerS);
        // Split-KV with its published H100 rates holds one block per SM, so a pass runs in many waves whose last one the closed form
        // bounds from below: its latency percentiles are held to the closed form's per-batch tolerance (10%).
        var latency = sets.Contains("cost_model.attention_kernel=split_kv") ? SplitKvTolerance : Tolerance;
        foreach (var (name, fd, rd, tolerance) in new[]
                 { ("ttft", f.TtftS, r.TtftS, Math.Max(latency, PassTolerance)), ("tpot", f.TpotS, r.TpotS, latency), ("e2e", f.E2eS, r.E2eS, latency),
                     ("pass time", f.IterationTimeS, r.IterationTimeS, Math.Max(latency, PassTolerance)) })
        {
            Close($"{name} mean", fd.Mean, rd.Mean, tolerance);
            Close($"{name} p50", fd.P50, rd.P50, tolerance);
            Close($"{name} p90", fd.P90, rd.P90, tolerance);
            Close($"{name} p99", fd.P99, rd.P99, tolerance);
        }

        // Request by request: the same requests finish at nearly the same times.
        var e2e = Enumerable.Range(0, fast.Metrics.Requests.Count).Select(i =>
        {
            var arrival = fast.Metrics.Requests[i].ArrivalNs;
            return Math.Abs((fast.Metrics.FinishNs[i] - arrival) / (double)(reference.Metrics.FinishNs[i] - arrival) - 1);
        }).Order().ToArray();
        output.WriteLine($"{label}: per-request E2E relative difference median {e2e[e2e.Length / 2]:P2}, P95 {e2e[(int)(e2e.Length * 0.95)]:P2}, max {e2e[^1]:P2}");
        Assert.InRange(e2e[e2e.Length / 2], 0, Tolerance);
        Assert.InRange(e2e[(int)(e2e.Length * 0.95)], 0, Math.Max(0.05, latency));
    }

    private void Close(string what, double fast, double reference, double tolerance = Tolerance)
    {
        var relative = Math.Abs(fast / reference - 1);
        output.WriteLine($"  {what}: fast {fast:G6}, reference {reference:G6} ({relative:P2})");
        Assert.True(relative <= tolerance, $"{what}: fast {fast} vs reference {reference} differ by {relative:P2} (tolerance {tolerance:P0})");
    }

    private static RunResult Execute(string[] sets) => SingleRun.Execute(PreparedRun.From(ExperimentLoader.Load(RepoPaths.Quickstart, sets)));
}
