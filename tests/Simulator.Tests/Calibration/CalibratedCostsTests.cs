using Policies.Core;
using Simulator.Calibration;
using Simulator.Config;
using Simulator.CostModel;
using Simulator.Specs;

namespace Simulator.Tests.Calibration;

/// <summary>The calibrated cost model against hand-made tables whose answers are known.</summary>
public sealed class CalibratedCostsTests
{
    // RealRunner's kernel shape (per_head), whose closed form the tables correct.
    private static readonly ExperimentConfig Config = ExperimentLoader.Load(RepoPaths.Quickstart, ["cost_model.attention_kernel=per_head"]);
    private static ModelSpec Model => Config.Model;
    private static GpuSpec Gpu => Config.Node.Gpu;

    private static CalibrationTables Tables(IReadOnlyList<AttentionSample> attention, IReadOnlyList<DenseSample>? dense = null, IReadOnlyList<LinkSample>? links = null) =>
        new("hand-made", new CalibrationConfig("test", "cpu", new GpuCalibration()), attention, dense ?? [], links ?? []);

    /// <summary>The uncalibrated closed form's per-layer time for a sample's representative batch.</summary>
    private static double ClosedFormUs(int batch, double mean, double max)
    {
        var model = new ForwardCostModel(Model, Gpu, Config.CostModel);
        return model.Estimate(Decode(CalibratedCosts.Representative(new AttentionSample("per_head", batch, mean, max, 1)))).DecodeAttentionNs / 1000.0 / Model.Layers;
    }

    private static ForwardBatch Decode(IEnumerable<int> lengths)
    {
        var batch = new ForwardBatch();
        var id = 0;
        foreach (var l in lengths) batch.Add(new BatchEntry(new Request(id++, l, 2), 1, l));
        return batch;
    }

    private static AttentionSample Sample(int batch, double mean, double max, double factor) =>
        new("per_head", batch, mean, max, factor * ClosedFormUs(batch, mean, max));

    [Fact]
    public void Attention_Should_Be_The_Closed_Form_Times_The_Measured_Factor_At_And_Between_Samples()
    {
        var tables = Tables([Sample(1, 1024, 1024, 2.0), Sample(16, 1024, 1024, 3.0)]);
        var calibrated = new ForwardCostModel(Model, Gpu, Config.CostModel, tables);
        var plain = new ForwardCostModel(Model, Gpu, Config.CostModel);

        // At a sample: exactly its factor.
        var one = Decode([1024]);
        Assert.Equal(2.0 * plain.Estimate(one).DecodeAttentionNs, calibrated.Estimate(one).DecodeAttentionNs, 2.0 * Model.Layers);
        // Halfway in log batch size (4 = sqrt(1 x 16)): the two factors weigh the same.
        var four = Decode([1024, 1024, 1024, 1024]);
        Assert.Equal(2.5 * plain.Estimate(four).DecodeAttentionNs, calibrated.Estimate(four).DecodeAttentionNs, 2.0 * Model.Layers);
        Assert.Null(calibrated.CalibrationReport());

        // Outside the table (batch 32): the closed form, and the report says so.
        var outside = Decode(Enumerable.Repeat(1024, 32));
        Assert.Equal(plain.Estimate(outside).DecodeAttentionNs, calibrated.Estimate(outside).DecodeAttentionNs);
        Assert.Contains("1 of 3 per_head attention evaluations fell outside", calibrated.CalibrationReport());
    }

    [Fact]
    public void A_Spread_Batch_Should_Take_The_Factor_Of_The_Nearest_Spread()
    {
        // A stand-in closed form of 1 ns per request; uniform batches measured at 1x it, outlier batches (max 8x mean) at 1.5x.
        var tables = Tables([new AttentionSample("per_head", 8, 512, 512, 8 * 1.0 / 1000), new AttentionSample("per_head", 8, 512, 4096, 8 * 1.5 / 1000)]);
        var costs = new CalibratedCosts(tables, (_, lengths) => lengths.Count);
        Assert.Equal(1.0, costs.AttentionFactor(AttentionKernel.PerHead, 8, 512, 512)!.Value, 9);
        Assert.Equal(1.5, costs.AttentionFactor(AttentionKernel.PerHead, 8, 512, 4096)!.Value, 9);
        var between = costs.AttentionFactor(AttentionKernel.PerHead, 8, 512, 2048)!.Value;
        Assert.InRange(between, 1.0, 1.5);
        Assert.Null(costs.AttentionFactor(AttentionKernel.SplitKv, 8, 512, 512)); // split_kv was not profiled
        Assert.Null(costs.AttentionFactor(AttentionKernel.PerHead, 8, 512, 100_000)); // a wider spread than measured
    }

    [Fact]
    public void Dense_Should_Interpolate_Linearly_In_Tokens_Inside_The_Table_Only()
    {
        var costs = new CalibratedCosts(Tables([], [new DenseSample(1, 100), new DenseSample(9, 500), new DenseSample(33, 1700)]), (_, _) => 1);
        Assert.Equal(100_000, costs.DenseNs(1));
        Assert.Equal(300_000, costs.DenseNs(5));
        Assert.Equal(1_100_000, costs.DenseNs(21));
        Assert.Equal(1_700_000, costs.DenseNs(33));
        Assert.Null(costs.DenseNs(34));
        Assert.Contains("1 of 5 dense evaluations fell outside the dense table (1-33 tokens)", costs.Report());
    }

    [Fact]
    public void Link_Fit_Should_Recover_Bandwidth_And_Latency_From_Exact_Samples()
    {
        // 20 GB/s = 20,000 bytes per microsecond, 5 us latency.
        LinkSample At(long bytes) => new("h2d", bytes, 5 + bytes / 20_000.0);
        var fit = LinkFit.Of([At(1 << 16), At(1 << 20), At(1 << 26)], "h2d")!;
        Assert.Equal(20, fit.GbPerS, 9);
        Assert.Equal(5, fit.LatencyUs, 6);
        Assert.Null(LinkFit.Of([At(1 << 20)], "h2d")); // one size: no slope
        Assert.Null(LinkFit.Of([At(1 << 16), At(1 << 20)], "peer"));
    }

    [Fact]
    public void Mean_Kv_Should_Miss_A_Long_Outlier_And_Match_A_Uniform_Batch()
    {
        var own = new ForwardCostModel(Model, Gpu, Config.CostModel);
        var mean = new ForwardCostModel(Model, Gpu, Config.CostModel with { AttentionLengths = AttentionLengths.Mean });
        var outlier = Decode([.. Enumerable.Repeat(256, 31), 8192]);
        Assert.True(mean.Estimate(outlier).DecodeAttentionNs < 0.9 * own.Estimate(outlier).DecodeAttentionNs);
        Assert.Equal(0, mean.Estimate(outlier).BubbleNs);
        var uniform = Decode(Enumerable.Repeat(1000, 32));
        Assert.Equal(own.Estimate(uniform).DecodeAttentionNs, mean.Estimate(uniform).DecodeAttentionNs);
    }
}
