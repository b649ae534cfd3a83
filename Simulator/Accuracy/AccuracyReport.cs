using ScottPlot;
using Simulator.Output;
using Simulator.Plots;

namespace Simulator.Accuracy;

/// <summary>Writes an accuracy evaluation: accuracy.csv (every row), summary.csv (per kernel family and GPU), unmapped.csv and the figure.</summary>
public static class AccuracyReport
{
    public static IReadOnlyList<string> Write(string dir, IReadOnlyList<AccuracyResult> results, IReadOnlyList<UnmappedRow> unmapped)
    {
        CsvTable.Write(Path.Combine(dir, "accuracy.csv"),
            ["row", "source", "reliability", "gpu_published", "gpu", "kernel_published", "family", "batch", "q_heads", "kv_heads", "head_dim",
                "kv_len", "measured_us", "predicted_us", "error", "note"],
            results, r => [r.Row.Where, r.Row.Source, r.Row.Reliability, r.Row.Gpu, r.Gpu, r.Row.Kernel, r.Family, r.Row.Batch, r.Row.QHeads,
                r.Row.KvHeads, r.Row.HeadDim, r.Row.KvLen, r.Row.TimeUs, Math.Round(r.PredictedUs, 3), Math.Round(r.Error, 4), r.Note]);
        CsvTable.Write(Path.Combine(dir, "summary.csv"),
            ["family", "gpu", "rows", "figure_read_rows", "median_abs_error", "worst_abs_error", "worst_row"],
            AccuracyGroup.Of(results), g => [g.Family, g.Gpu, g.Rows, g.FigureRead, Math.Round(g.MedianAbsError, 4), Math.Round(g.WorstAbsError, 4), g.WorstRow]);
        CsvTable.Write(Path.Combine(dir, "unmapped.csv"), ["row", "gpu_published", "kernel_published", "reason"],
            unmapped, u => [u.Row.Where, u.Row.Gpu, u.Row.Kernel, u.Reason]);
        return FigureFiles.Save(Figure(results), Path.Combine(dir, FigureSet.Folder), "predicted_vs_measured");
    }

    /// <summary>Predicted against measured kernel time on log axes, one colour per kernel family.</summary>
    private static Plot Figure(IReadOnlyList<AccuracyResult> results)
    {
        var plot = new Plot();
        static double L(double us) => Math.Log10(Math.Max(us, 1e-3));
        var palette = new[] { Colors.C0, Colors.C1, Colors.C2, Colors.C3, Colors.C4, Colors.C5, Colors.C6 };
        var i = 0;
        foreach (var family in results.GroupBy(r => r.Family).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var s = plot.Add.ScatterPoints(family.Select(r => L(r.Row.TimeUs)).ToArray(), family.Select(r => L(r.PredictedUs)).ToArray());
            s.LegendText = family.Key;
            s.Color = palette[i++ % palette.Length].WithAlpha(0.85);
            s.MarkerSize = 6;
        }
        var (lo, hi) = FigureSet.PredictedVsMeasuredFrame(plot, results.SelectMany(r => new[] { L(r.Row.TimeUs), L(r.PredictedUs) }));
        foreach (var band in new[] { 0.1, -0.1 })
        {
            var b = plot.Add.Line(lo, lo + Math.Log10(1 + band), hi, hi + Math.Log10(1 + band));
            b.Color = Colors.LightGray;
            b.LinePattern = LinePattern.Dotted;
        }
        plot.Title("Decode attention: cost model vs published measurements");
        plot.XLabel("measured kernel time (us, log scale)");
        plot.YLabel("predicted (us, log scale); dotted: +-10%");
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }
}
