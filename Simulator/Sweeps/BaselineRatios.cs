using System.Globalization;

namespace Simulator.Sweeps;

/// <summary>One series over a figure's baseline: geometric mean, smallest and largest ratio over the x values both have.</summary>
public sealed record SeriesRatio(string Series, double GeometricMean, double Min, double Max, int Count);

/// <summary>The ratios of a bar or line figure (one panel of it) against its baseline series.</summary>
public sealed record FigureRatios(RenderedFigure Figure, string Baseline, IReadOnlyList<SeriesRatio> Series);

/// <summary>
/// Each bar or line figure's series against its baseline (<c>baseline:</c>, else the series' first label), as the
/// report.md and report.html of a sweep show them; and one point's ratio to the point that differs from it only in
/// a dimension's label.
/// </summary>
public static class BaselineRatios
{
    public static IReadOnlyList<FigureRatios> Of(SweepManifest manifest, IReadOnlyList<RenderedFigure> figures, List<Dictionary<string, string>> points)
    {
        var result = new List<FigureRatios>();
        foreach (var f in figures.Where(f => f.Spec.Kind is FigureKind.Bars or FigureKind.Lines))
        {
            var spec = f.Spec;
            var mine = points.Where(p => spec.Filters.All(w => p[w.Dimension] == w.Label) && (f.Panel is null || p[spec.Panels!] == f.Panel)).ToList();
            var series = manifest.Dimensions.First(d => d.Name == spec.Series).Labels;
            var baseline = spec.Baseline ?? series[0];
            var rows = new List<SeriesRatio>();
            foreach (var s in series.Where(s => s != baseline))
            {
                var ratios = new List<double>();
                foreach (var p in mine.Where(p => p[spec.Series] == s))
                {
                    var b = mine.FirstOrDefault(q => q[spec.Series] == baseline && q[spec.X!] == p[spec.X!]);
                    if (b is not null && TryNumber(p[spec.Metric!], out var v) && TryNumber(b[spec.Metric!], out var w) && v > 0 && w > 0)
                        ratios.Add(v / w);
                }
                if (ratios.Count == 0) continue;
                rows.Add(new SeriesRatio(s, Math.Exp(ratios.Average(Math.Log)), ratios.Min(), ratios.Max(), ratios.Count));
            }
            if (rows.Count > 0) result.Add(new FigureRatios(f, baseline, rows));
        }
        return result;
    }

    /// <summary>
    /// <paramref name="metric"/> of point <paramref name="p"/> over that of the point with the same labels except
    /// <paramref name="dimension"/> = <paramref name="baseline"/>; NaN when that point or either value is missing.
    /// </summary>
    public static double PointRatio(SweepManifest manifest, List<Dictionary<string, string>> points, Dictionary<string, string> p,
        string metric, string dimension, string baseline)
    {
        var b = points.FirstOrDefault(q => manifest.Dimensions.All(d => d.Name == dimension ? q[d.Name] == baseline : q[d.Name] == p[d.Name]));
        return b is not null && p.TryGetValue(metric, out var pv) && b.TryGetValue(metric, out var bv)
            && TryNumber(pv, out var v) && TryNumber(bv, out var w) && w != 0 ? v / w : double.NaN;
    }

    public static bool TryNumber(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
}
