using Simulator.Config;
using Simulator.CostModel;
using Simulator.Specs;

namespace Simulator.Accuracy;

/// <summary>A row's prediction: the catalog GPU and kernel family it was priced with, and the relative error.</summary>
public sealed record AccuracyResult(ReferenceRow Row, string Gpu, string Family, double PredictedUs, string Note)
{
    /// <summary>(predicted - measured) / measured.</summary>
    public double Error => PredictedUs / Row.TimeUs - 1;

    public double AbsError => Math.Abs(Error);
}

/// <summary>A row the model cannot price, and why.</summary>
public sealed record UnmappedRow(ReferenceRow Row, string Reason);

/// <summary>Prices every published row with the cost model: one decode-attention launch of one layer, as the simulator prices it.</summary>
public static class AccuracyEvaluator
{
    public static (IReadOnlyList<AccuracyResult> Results, IReadOnlyList<UnmappedRow> Unmapped) Evaluate(
        IReadOnlyList<ReferenceRow> rows, Func<string, GpuSpec> gpuOf)
    {
        var results = new List<AccuracyResult>();
        var unmapped = new List<UnmappedRow>();
        foreach (var row in rows)
        {
            var (gpuName, gpuNote) = ReferenceMapping.GpuOf(row.Gpu);
            var setting = ReferenceMapping.KernelOf(row.Kernel);
            if (gpuName is null || setting is null)
            {
                unmapped.Add(new UnmappedRow(row, gpuName is null ? gpuNote : $"no kernel family models '{row.Kernel}'"));
                continue;
            }
            if (row.QHeads % row.KvHeads != 0)
            {
                unmapped.Add(new UnmappedRow(row, $"q_heads {row.QHeads} is not a multiple of kv_heads {row.KvHeads}"));
                continue;
            }
            var gpu = gpuOf(gpuName);
            var (family, predicted) = Predict(row, gpu, setting);
            var note = string.Join("; ", new[] { gpuNote, setting.Note }.Where(n => n.Length > 0));
            results.Add(new AccuracyResult(row, gpuName, family, predicted, note));
        }
        return (results, unmapped);
    }

    /// <summary>The family the launch ran (vLLM's rule resolved) and its predicted time in microseconds.</summary>
    public static (string Family, double PredictedUs) Predict(ReferenceRow row, GpuSpec gpu, KernelSetting setting)
    {
        var model = ShapeOf(row);
        var config = new CostModelConfig(AttentionKernel: setting.Kernel, AttentionSplit: setting.Split, AttentionGqaPacking: setting.GqaPacking);
        var costModel = new ForwardCostModel(model, gpu, config);
        var lengths = new int[row.Batch];
        Array.Fill(lengths, row.KvLen);
        var family = costModel.KernelFor(row.Batch, row.KvLen);
        return (ConfigNames.EnumName(family), costModel.DecodeAttentionLayerNs(lengths) / Units.NsPerMicrosecond);
    }

    /// <summary>A one-layer model with the row's attention shape (the rest of the model plays no part in one attention launch).</summary>
    public static ModelSpec ShapeOf(ReferenceRow row) => new($"reference {row.Where}", Layers: 1, Hidden: row.QHeads * row.HeadDim,
        Heads: row.QHeads, KvHeads: row.KvHeads, HeadDim: row.HeadDim, Ffn: 1, Vocab: 1, FfnKind.Gelu, MaxPositionTokens: int.MaxValue,
        TiedEmbeddings: true, DtypeBytes: row.Dtype.Contains("32") ? 4 : 2);
}
