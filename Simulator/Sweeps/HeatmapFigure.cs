using System.Globalization;
using ScottPlot;

namespace Simulator.Sweeps;

/// <summary>
/// A heatmap of a sweep: one cell per (x label, series label), holding the metric there or, with <see cref="FigureSpec.Ratio"/>,
/// the metric at one label of a third dimension over the metric at another (aligned over vllm). Ratio cells are coloured on
/// a log scale around 1: blue where the numerator wins, red where it loses, white at parity; every cell is printed.
/// </summary>
public static class HeatmapFigure
{
    public static Plot? Draw(FigureSpec spec, IReadOnlyList<string> columns, IReadOnlyList<string> rows, List<Dictionary<string, string>> points,
        List<string> notes)
    {
        var metric = spec.Metric!;
        if (points.Count == 0) return null;
        if (!points[0].ContainsKey(metric)) throw new Config.ConfigException(null, $"figures.{spec.Name}.metric", $"points.csv has no column '{metric}'");
        var ratio = spec.RatioParts();
        double Cell(string column, string row)
        {
            double At(string? label) =>
                points.FirstOrDefault(p => p[spec.X!] == column && p[spec.Series] == row && (ratio is null || p[ratio.Value.Dimension] == label)) is { } p
                && double.TryParse(p[metric], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN;
            return ratio is { } r ? At(r.Of) / At(r.Over) : At(null) * spec.Scale;
        }

        var plot = new Plot();
        var values = rows.Select(r => columns.Select(c => Cell(c, r)).ToArray()).ToArray();
        var finite = values.SelectMany(v => v).Where(double.IsFinite).ToList();
        if (finite.Count == 0) return null;
        var (lo, hi) = (finite.Min(), finite.Max());
        for (var y = 0; y < rows.Count; y++)
            for (var x = 0; x < columns.Count; x++)
            {
                var v = values[y][x];
                var cell = plot.Add.Rectangle(x - 0.5, x + 0.5, y - 0.5, y + 0.5);
                cell.FillColor = double.IsFinite(v) ? (ratio is null ? Sequential((v - lo) / Math.Max(hi - lo, 1e-12)) : Diverging(v)) : Colors.LightGray;
                cell.LineColor = Colors.White;
                var text = plot.Add.Text(double.IsFinite(v) ? v.ToString(ratio is null ? "G3" : "0.00", CultureInfo.InvariantCulture) : "n/a", x, y);
                text.Alignment = Alignment.MiddleCenter;
                text.LabelFontSize = 13;
            }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, columns.Count).Select(i => (double)i).ToArray(), columns.ToArray());
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, rows.Count).Select(i => (double)i).ToArray(), rows.ToArray());
        plot.Axes.SetLimits(-0.5, columns.Count - 0.5, -0.5, rows.Count - 0.5);
        plot.XLabel(spec.XLabel ?? spec.X!);
        plot.YLabel(spec.YLabel ?? spec.Series);
        var what = ratio is { } q ? $"{metric} at {q.Dimension} = {q.Of} over {q.Over}" : metric;
        notes.Add($"cells: {what}; rows {spec.Series} ({string.Join(", ", rows)}), columns {spec.X} ({string.Join(", ", columns)})");
        for (var y = 0; y < rows.Count; y++)
            notes.Add($"{spec.Series} = {rows[y]}: " + string.Join(", ", columns.Select((c, x) =>
                $"{c} {(double.IsFinite(values[y][x]) ? values[y][x].ToString("0.00", CultureInfo.InvariantCulture) : "n/a")}")));
        return plot;
    }

    /// <summary>Red below 1, white at 1, blue above, saturating at 0.5 and 2 (log scale).</summary>
    private static Color Diverging(double ratio)
    {
        var t = Math.Clamp(Math.Log2(Math.Max(ratio, 1e-9)), -1, 1);
        var fade = (byte)(255 * (1 - Math.Abs(t) * 0.75));
        return t < 0 ? new Color((byte)255, fade, fade) : new Color(fade, fade, (byte)255);
    }

    private static Color Sequential(double fraction) => new ScottPlot.Colormaps.Viridis().GetColor(Math.Clamp(fraction, 0, 1));
}
