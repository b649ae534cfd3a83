using Simulator.Output;
using Simulator.Specs;

namespace Simulator.Accuracy;

/// <summary>A row priced with rates fitted without its publication (null when no other publication measured its family on its architecture).</summary>
public sealed record LosoResult(ReferenceRow Row, string Source, double? PredictedUs);

/// <summary>
/// Out-of-sample check of <see cref="KernelFit"/>: for each publication, fit on the others and price its rows. In-sample errors
/// say the mechanism can describe the rows; these say how far it carries to a measurement it has not seen.
/// </summary>
public static class LeaveOneSourceOut
{
    /// <summary>A publication: the source text before its first comma or parenthesis (one blog post, issue or pull request).</summary>
    public static string SourceOf(ReferenceRow row)
    {
        var s = row.Source;
        var cut = s.IndexOfAny([',', '(']);
        return (cut > 0 ? s[..cut] : s).Trim();
    }

    /// <summary>Fits without each publication in turn and prices its rows; <paramref name="done"/> hears each publication when its fit is done.</summary>
    public static IReadOnlyList<LosoResult> Run(IReadOnlyList<ReferenceRow> rows, Func<string, GpuSpec> gpuOf, Action<string>? done = null)
    {
        var results = new List<LosoResult>();
        foreach (var source in rows.Select(SourceOf).Distinct().Order(StringComparer.Ordinal))
        {
            var fitted = KernelFit.Fit(rows, gpuOf, r => SourceOf(r) == source);
            foreach (var row in rows.Where(r => SourceOf(r) == source))
            {
                var gpuName = ReferenceMapping.GpuOf(row.Gpu).Gpu;
                var setting = ReferenceMapping.KernelOf(row.Kernel);
                if (gpuName is null || setting is null) continue;
                var covered = fitted.Any(f => f.Family == KernelFit.GroupOf(setting.Kernel) && f.Arch == KernelFit.ArchOf(gpuName));
                double? predicted = covered
                    ? AccuracyEvaluator.Predict(row, KernelFit.WithRates(gpuOf(gpuName), gpuName, fitted), setting).PredictedUs
                    : null;
                results.Add(new LosoResult(row, source, predicted));
            }
            done?.Invoke(source);
        }
        return results;
    }

    public static void Write(string dir, IReadOnlyList<FittedRates> fitted, IReadOnlyList<LosoResult> loso)
    {
        CsvTable.Write(Path.Combine(dir, "fit.csv"),
            ["family", "arch", "per_block_gb_per_s", "resident_blocks_per_sm", "launch_us", "reduction_us", "rows", "median_abs_error", "worst_abs_error"],
            fitted, f => [f.Family, f.Arch, f.Rates.PerBlockGbPerS, f.Rates.ResidentBlocksPerSm, f.Rates.LaunchUs, f.Rates.ReductionUs, f.Rows,
                Math.Round(f.MedianAbsError, 4), Math.Round(f.WorstAbsError, 4)]);
        CsvTable.Write(Path.Combine(dir, "loso.csv"), ["row", "source_left_out", "kernel_published", "measured_us", "predicted_us", "error"],
            loso, l => [l.Row.Where, l.Source, l.Row.Kernel, l.Row.TimeUs, l.PredictedUs is { } p ? Math.Round(p, 3) : "",
                l.PredictedUs is { } q ? Math.Round(q / l.Row.TimeUs - 1, 4) : ""]);
    }
}
