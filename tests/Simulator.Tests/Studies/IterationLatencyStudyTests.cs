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
    public void Split_Kv_Should_Remove_The_Single_Outlier_Bubble()
    {
        var rows = IterationLatencyStudy.Run(Motivation).Where(r => r.LongRequests == 1).ToDictionary(r => r.Kernel);
        Assert.True(rows["per_head"].BubbleS > 0);
        Assert.Equal(0, rows["split_kv"].BubbleS);
        Assert.True(rows["split_kv"].IterationS < rows["per_head"].IterationS);
    }

    [Fact]
    public void Study_Key_In_A_Serving_Experiment_Loader_Should_Be_Refused_Clearly()
    {
        var e = Assert.Throws<ConfigException>(() => ExperimentLoader.Load(Path.Combine(RepoPaths.Configs, "paper", "motivation.yaml")));
        Assert.Contains("is a study", e.Message);
    }
}
