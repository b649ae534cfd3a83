using Simulator.Config;
using Simulator.Metrics;
using Simulator.Runs;

namespace Simulator.Tests.Metrics;

/// <summary>TPOT's two parts (pool wait and decode inter-token latency) and the starvation guard's bound on a lightly loaded run.</summary>
public sealed class RequestLatencyTests
{
    private static readonly string[] LightAligned =
    [
        "workload.num_requests=300", "workload.arrival.rate_per_s=4", "policy=aligned", "deployment.handoff=host_pool",
        "deployment.gpus=[{role: prefill, count: 1}, {role: decode, count: 1}]",
    ];

    [Fact]
    public void Tpot_Should_Be_The_Pool_Wait_And_The_Decode_Gaps_Averaged_Over_The_Output()
    {
        // Given a lightly loaded disaggregated run
        var result = SingleRun.Execute(PreparedRun.From(ExperimentLoader.Load(RepoPaths.Quickstart, LightAligned)));
        var m = result.Metrics;

        // Then for every request of three or more tokens TPOT = (pool wait + ITL x (n - 2)) / (n - 1)
        var checkedRequests = 0;
        foreach (var spec in m.Requests.Where(r => r.OutputTokens > 2))
        {
            var (wait, itl) = RequestLatency.Decoding(m, spec.Id, spec.OutputTokens);
            var tpot = (m.FinishNs[spec.Id] - m.FirstTokenNs[spec.Id]) / 1e9 / (spec.OutputTokens - 1);
            Assert.InRange((wait + itl * (spec.OutputTokens - 2)) / (spec.OutputTokens - 1) - tpot, -1e-12, 1e-12);
            Assert.True(wait > 0 && itl > 0);
            checkedRequests++;
        }
        Assert.True(checkedRequests > 250);
        Assert.Equal(checkedRequests + m.Requests.Count(r => r.OutputTokens == 2), result.Summary.PoolWaitS.Count);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(2.0)]
    public void No_Request_Should_Wait_In_The_Pool_Past_The_Starvation_Bound_At_Light_Load(double guardS)
    {
        // Given aligned with k_min 36 (batches rarely fill at 4 requests/s) and the guard at guardS
        var result = SingleRun.Execute(PreparedRun.From(ExperimentLoader.Load(RepoPaths.Quickstart,
            [.. LightAligned, $"policy.starvation_guard_s={guardS}"])));

        // Then the longest pool wait is the bound plus the handoff copy and a few passes (under 0.3 s here),
        // while without the guard it runs far past it
        Assert.InRange(result.Summary.PoolWaitMaxS, 0, guardS + 0.3);
        var unguarded = SingleRun.Execute(PreparedRun.From(ExperimentLoader.Load(RepoPaths.Quickstart,
            [.. LightAligned, "policy.starvation_guard_s=null"])));
        Assert.True(unguarded.Summary.PoolWaitMaxS > guardS + 0.3, $"unguarded max pool wait {unguarded.Summary.PoolWaitMaxS} s");
    }
}
