using Policies.Aligned;
using Policies.Core;
using Policies.Vllm;
using Simulator.Config;
using Simulator.Runs;
using Simulator.Serving;
using Simulator.Workload;

namespace Simulator.Tests.Serving;

/// <summary>Every combination of aligned's switches runs a small trace to completion.</summary>
public sealed class AlignedOptionsTests
{
    public static TheoryData<bool, bool, bool, bool, PrefetchPath, Preemption, CandidateBuffer> Combinations()
    {
        var data = new TheoryData<bool, bool, bool, bool, PrefetchPath, Preemption, CandidateBuffer>();
        foreach (var prefixAware in new[] { true, false })
            foreach (var prefetch in new[] { true, false })
                foreach (var candidates in new[] { true, false })
                    foreach (var guard in new[] { true, false })
                        foreach (var path in new[] { PrefetchPath.GpuPrefetch, PrefetchPath.PcieDirect })
                            foreach (var preemption in new[] { Preemption.Swap, Preemption.Recompute })
                                foreach (var staging in new[] { CandidateBuffer.PrefillGpu, CandidateBuffer.DecodeGpu })
                                    data.Add(prefixAware, prefetch, candidates, guard, path, preemption, staging);
        return data;
    }

    [Theory]
    [MemberData(nameof(Combinations))]
    public void Aligned_Should_Finish_A_Small_Trace_With_Any_Options(bool prefixAware, bool prefetch, bool candidates, bool guard,
        PrefetchPath path, Preemption preemption, CandidateBuffer staging)
    {
        // Given the Mooncake fixture's three requests plus the Vidur fixture's, on a GPU small enough to preempt
        var options = new AlignedOptions(KMin: 2, PrefixAware: prefixAware, Prefetch: prefetch, CandidateRequests: candidates,
            StarvationGuardS: guard ? 0.01 : null, PrefetchPath: path, Preemption: preemption, Staging: staging);
        var config = ExperimentLoader.Load(RepoPaths.Quickstart, ["model.layers=2"]) with
        {
            Policy = new PolicyConfig("aligned", options),
            Deployment = new DeploymentConfig(Gpus: [new GpuGroup(GpuRole.Prefill, 1), new GpuGroup(GpuRole.Decode, 2)], Handoff: KvHandoff.HostPool),
        };
        var fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "traces");
        var (mooncake, _) = WorkloadBuilder.Build(new TraceWorkload(TraceFormat.Mooncake, Path.Combine(fixture, "mooncake.jsonl")), config.Model, new(1));
        var (vidur, _) = WorkloadBuilder.Build(new TraceWorkload(TraceFormat.Vidur, Path.Combine(fixture, "vidur.csv")), config.Model, new(1));
        var requests = mooncake.Concat(vidur).OrderBy(r => r.ArrivalNs).Select((r, i) => r with { Id = i }).ToArray();

        // When
        var result = SingleRun.Execute(new PreparedRun(config, requests, new MemoryPlan(0, 0, 0, 0, 500, 16), WorkloadStats.Given("fixtures", 6)));

        // Then
        Assert.Equal(requests.Length, result.Metrics.Finished);
        Metrics.ComputedTokens.AssertEveryTokenComputed(result.Metrics);
    }
}
