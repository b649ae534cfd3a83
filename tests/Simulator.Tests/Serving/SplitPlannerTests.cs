using Policies.Core;
using Simulator.Config;
using Simulator.Runs;

namespace Simulator.Tests.Serving;

/// <summary><c>deployment.split</c>: a fixed "P:D" split, and auto's balance of prefill and decode work.</summary>
public sealed class SplitPlannerTests
{
    private static PreparedRun Prepare(params string[] sets) => PreparedRun.From(ExperimentLoader.Load(RepoPaths.Quickstart,
    [
        "workload.num_requests=400", "policy=distserve", "deployment.gpus=[{role: prefill, count: 4}, {role: decode, count: 4}]", .. sets,
    ]));

    private static int PrefillGpus(PreparedRun run) => run.Config.Deployment.Roles().Count(r => r == GpuRole.Prefill);

    [Fact]
    public void A_Fixed_Split_Should_Replace_The_Listed_Groups()
    {
        var run = Prepare("deployment.split=\"2:6\"");

        Assert.Equal(2, PrefillGpus(run));
        Assert.Equal(6, run.Config.Deployment.Gpus!.Single(g => g.Role == GpuRole.Decode).Count);
    }

    [Fact]
    public void Auto_Should_Give_Prefill_More_Gpus_When_Prompts_Grow_And_Outputs_Shrink()
    {
        // Given a decode-heavy workload (short prompts, long outputs) and a prefill-heavy one (long prompts, few output tokens)
        var decodeHeavy = Prepare("deployment.split=auto", "workload.prompt={dist: fixed, value: 64}", "workload.output={dist: fixed, value: 1000}");
        var prefillHeavy = Prepare("deployment.split=auto", "workload.prompt={dist: fixed, value: 6000}", "workload.output={dist: fixed, value: 8}");

        // Then the split follows the work, within the 8 GPUs listed and at least one of each
        Assert.InRange(PrefillGpus(decodeHeavy), 1, 2);
        Assert.InRange(PrefillGpus(prefillHeavy), 5, 7);
        Assert.Equal(8, prefillHeavy.Config.Deployment.Roles().Count);
    }

    [Fact]
    public void Auto_Should_Put_The_Prefill_Share_Of_The_Priced_Work_On_Prefill_Gpus()
    {
        // The chosen split is the rounded share of prefill work, as SplitPlanner.Work prices it
        var run = Prepare("deployment.split=auto");
        var (prefillS, decodeS) = Simulator.Serving.SplitPlanner.Work(run.Config, run.Requests, run.Memory, null);

        Assert.Equal(Math.Clamp((int)Math.Round(8 * prefillS / (prefillS + decodeS)), 1, 7), PrefillGpus(run));
    }

    [Theory]
    [InlineData("\"3:x\"")]
    [InlineData("\"0:8\"")]
    public void A_Malformed_Split_Should_Be_Refused_With_Its_Field(string split)
    {
        var error = Assert.Throws<ConfigException>(() => Prepare($"deployment.split={split}"));
        Assert.Contains("deployment.split", error.Message);
    }

    [Theory]
    [InlineData("auto")]
    [InlineData("\"1:1\"")]
    public void A_Split_Should_Be_Refused_When_The_Groups_Are_Tensor_Parallel(string split)
    {
        // Given prefill and decode instances of 4 GPUs each: a split counts single-GPU instances, so it cannot re-split them
        var error = Assert.Throws<ConfigException>(() => Prepare("model=llama-3.1-70b",
            "deployment.gpus=[{role: prefill, count: 1, tp: 4}, {role: decode, count: 1, tp: 4}]", $"deployment.split={split}"));
        Assert.Contains("deployment.split", error.Message);
        Assert.Contains("tp > 1", error.Message);
    }
}
