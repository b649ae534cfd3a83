using Simulator.Metrics;

namespace Simulator.Tests.Metrics;

/// <summary>
/// Every request's tokens computed, counted from the passes (standing ones included) rather than from the requests: each request
/// computes its prompt and all its outputs but the last (prompt + output - 1 tokens) once, and a preemption by recompute adds
/// more. A pass that lost or doubled tokens (a standing batch's bulk advance, say) makes requests finish at the wrong pass.
/// </summary>
internal static class ComputedTokens
{
    public static void AssertEveryTokenComputed(MetricsRecorder m)
    {
        Assert.True(m.KeepsIterations, "the check reads every pass's record");
        var computed = m.Iterations.Sum(it => (long)it.NewTokens);
        var needed = m.Requests.Sum(r => (long)r.PromptTokens + r.OutputTokens - 1);
        if (m.Preemptions.All(p => p == 0)) Assert.Equal(needed, computed);
        else Assert.True(computed >= needed, $"{computed} tokens computed, {needed} needed");
    }
}
