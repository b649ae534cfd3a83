using Simulator.Config;
using Simulator.Studies;

namespace Simulator.Tests.Studies;

public sealed class IterationLatencyStudyTests
{
    private static readonly IterationLatencyConfig Motivation =
        ExperimentLoader.Load<IterationLatencyConfig>(Path.Combine(RepoPaths.Configs, "paper", "motivation.yaml"));

    [Fact]
    public void Latency_Should_Grow_With_The_Share_Of_Long_Requests_For_Both_Kernels()
    {
        var rows = IterationLatencyStudy.Run(Motivation);

        foreach (var kernel in rows.GroupBy(r => r.Kernel))
        {
            var ordered = kernel.OrderBy(r => r.LongShare).ToList();
            Assert.Equal(0, ordered[0].IncreaseOverNoLong);
            Assert.Equal([0, 1, 2, 4, 8], ordered.Select(r => r.LongRequests));
            for (var i = 1; i < ordered.Count; i++) Assert.True(ordered[i].IterationS >= ordered[i - 1].IterationS);
            Assert.All(ordered, r => Assert.InRange(r.IterationS, r.ExactIterationS * 0.9, r.ExactIterationS * 1.1));
        }
    }

    [Fact]
    public void Split_Kv_Should_Remove_Most_Of_The_Single_Outlier_Bubble()
    {
        // vLLM's v1 runs the outlier's heads as single blocks: the batch waits on them. Split-KV's 512-token partitions spread
        // the outlier over the SMs; what remains is the last wave's quantisation. FlashInfer does not split here (32 requests x
        // 40 KV heads fill its grid) but streams a block faster, so the outlier's tail is shorter.
        var rows = IterationLatencyStudy.Run(Motivation).Where(r => r.LongRequests == 1).ToDictionary(r => r.Kernel);
        Assert.True(rows["paged_v1"].BubbleS > 0);
        Assert.True(rows["split_kv"].BubbleS < 0.25 * rows["paged_v1"].BubbleS, $"split_kv bubble {rows["split_kv"].BubbleS} vs paged_v1 {rows["paged_v1"].BubbleS}");
        Assert.True(rows["flashinfer"].BubbleS < rows["paged_v1"].BubbleS);
        Assert.True(rows["flashinfer"].IterationS < rows["paged_v1"].IterationS);
    }

    [Fact]
    public void Study_Key_In_A_Serving_Experiment_Loader_Should_Be_Refused_Clearly()
    {
        var e = Assert.Throws<ConfigException>(() => ExperimentLoader.Load(Path.Combine(RepoPaths.Configs, "paper", "motivation.yaml")));
        Assert.Contains("is a study", e.Message);
    }
}
