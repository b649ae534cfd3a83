using Simulator.Config;
using Simulator.Metrics;
using Simulator.Runs;

namespace Simulator.Tests.CostModel;

/// <summary>The fast closed form against the exact block schedule, over a whole run.</summary>
public sealed class ClosedFormEquivalenceTests
{
    [Theory]
    [InlineData("per_head")]
    [InlineData("split_kv")]
    public void Closed_Form_Run_Should_Match_The_Exact_Run_Within_Two_Percent(string kernel)
    {
        RunSummary Run(string mode) => SingleRun.Execute(PreparedRun.From(ExperimentLoader.Load(RepoPaths.Quickstart,
            ["workload.num_requests=300", $"cost_model.attention_mode={mode}", $"cost_model.attention_kernel={kernel}"]))).Summary;

        var closed = Run("closed_form");
        var exact = Run("exact");

        Assert.Equal(exact.Finished, closed.Finished);
        Assert.Equal(exact.GeneratedTokens, closed.GeneratedTokens);
        Assert.InRange(closed.DecodeThroughputTokensPerS, exact.DecodeThroughputTokensPerS * 0.98, exact.DecodeThroughputTokensPerS * 1.02);
        Assert.InRange(closed.TpotS.Mean, exact.TpotS.Mean * 0.98, exact.TpotS.Mean * 1.02);
        Assert.InRange(closed.IterationTimeS.P50, exact.IterationTimeS.P50 * 0.98, exact.IterationTimeS.P50 * 1.02);
    }
}
