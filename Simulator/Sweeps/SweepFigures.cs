using System.Globalization;
using ScottPlot;
using Simulator.Config;
using Simulator.Output;
using Simulator.Plots;

namespace Simulator.Sweeps;

/// <summary>One drawn figure file pair and what the report says about it.</summary>
public sealed record RenderedFigure(FigureSpec Spec, string? Panel, string Stem, IReadOnlyList<string> Files, IReadOnlyList<string> Notes);

/// <summary>
/// Draws a sweep's figures (figures.yaml) from points.csv and the runs' CSVs into figures/, as
/// PNG and SVG. Bars and lines carry 95% CI whiskers when seeds repeat; CDFs pool seeds.
/// </summary>
public static class SweepFigures
{
    public const string ScheduleHistogramFile = ResultsWriter.SchedulingHistogramFile;

    public static IReadOnlyList<RenderedFigure> RenderAll(string dir)
    {
        var manifest = SweepManifest.Read(dir);
        var specs = SweepManifest.ReadFigures(dir);
        var points = SweepResults.ReadPoints(dir);
        var runs = SweepResults.ReadRuns(dir, manifest);
        var rendered = new List<RenderedFigure>();
        ResultsFolder.WriteAtomically(Path.Combine(dir, FigureSet.Folder), staging =>
        {
            foreach (var spec in specs)
            {
                var panels = spec.Panels is null ? [null] : Labels(manifest, spec.Panels).Select(l => (string?)l).ToList();
                foreach (var panel in panels)
                {
                    bool Keep(IReadOnlyList<string> coordinates) =>
                        spec.Filters.All(f => coordinates[Index(manifest, f.Dimension)] == f.Label)
                        && (panel is null || coordinates[Index(manifest, spec.Panels!)] == panel);
                    var stem = panel is null ? spec.Name : $"{spec.Name}-{FileSafe(panel)}";
                    var notes = new List<string>();
                    var kept = points.Where(p => Keep(manifest.Dimensions.Select(d => p[d.Name]).ToList())).ToList();
                    var plot = spec.Kind switch
                    {
                        FigureKind.Cdf => Cdf(dir, manifest, spec, runs.Where(r => r.State == RunState.Done && Keep(r.Run.Coordinates)).ToList(), notes),
                        FigureKind.Heatmap => HeatmapFigure.Draw(spec, Labels(manifest, spec.X!), Labels(manifest, spec.Series), kept, notes),
                        _ => Series(manifest, spec, kept, notes),
                    };
                    if (plot is null) continue;
                    var title = spec.Title ?? spec.Name;
                    plot.Title(panel is null ? title : $"{title} ({spec.Panels} = {panel})");
                    var files = FigureFiles.SaveForColumn(plot, staging, stem);
                    rendered.Add(new RenderedFigure(spec, panel, stem, files.Select(f => Path.Combine(dir, FigureSet.Folder, Path.GetFileName(f))).ToList(), notes));
                }
            }
        });
        return rendered;
    }

    /// <summary>Renders and returns the file paths.</summary>
    public static IReadOnlyList<string> Render(string dir) => RenderAll(dir).SelectMany(f => f.Files).ToList();

    private static Plot? Series(SweepManifest manifest, FigureSpec spec, List<Dictionary<string, string>> points, List<string> notes)
    {
        if (points.Count == 0) return null;
        var metric = spec.Metric!;
        if (!points[0].ContainsKey(metric))
            throw new ConfigException(null, $"figures.{spec.Name}.metric", $"points.csv has no column '{metric}'");
        var ci = points[0].ContainsKey(metric + SweepResults.CiSuffix);
        var xLabels = Labels(manifest, spec.X!).Where(l => points.Any(p => p[spec.X!] == l)).ToList();
        var series = Labels(manifest, spec.Series).Where(l => points.Any(p => p[spec.Series] == l)).ToList();
        var numericX = spec.Kind == FigureKind.Lines && xLabels.All(l => double.TryParse(l, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
        double XOf(int i) => numericX ? Transform(double.Parse(xLabels[i], CultureInfo.InvariantCulture), spec.LogX) : i;
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var width = 0.8 / series.Count;
        for (var s = 0; s < series.Count; s++)
        {
            var color = palette.GetColor(s);
            var xs = new List<double>();
            var ys = new List<double>();
            var errs = new List<double>();
            for (var x = 0; x < xLabels.Count; x++)
            {
                var row = points.FirstOrDefault(p => p[spec.X!] == xLabels[x] && p[spec.Series] == series[s]);
                if (row is null || !TryNumber(row[metric], out var value)) continue;
                xs.Add(spec.Kind == FigureKind.Bars ? x - 0.4 + width * (s + 0.5) : XOf(x));
                ys.Add(Transform(value * spec.Scale, spec.LogY));
                errs.Add(ci && TryNumber(row[metric + SweepResults.CiSuffix], out var half) && !spec.LogY ? half * spec.Scale : 0);
            }
            if (xs.Count == 0) continue;
            if (spec.Kind == FigureKind.Bars)
            {
                plot.Add.Bars(xs.Select((p, i) => new ScottPlot.Bar
                {
                    Position = p, Value = ys[i], Size = width * 0.9, FillColor = color, Error = errs[i],
                }).ToList());
                plot.Legend.ManualItems.Add(new LegendItem { LabelText = series[s], FillColor = color });
            }
            else
            {
                var line = plot.Add.Scatter(xs.ToArray(), ys.ToArray());
                line.LegendText = series[s];
                line.Color = color;
                line.LineWidth = 2;
                line.MarkerSize = 7;
                if (errs.Any(e => e > 0))
                {
                    var bars = plot.Add.ErrorBar(xs.ToArray(), ys.ToArray(), errs.ToArray());
                    bars.Color = color;
                }
            }
        }
        if (spec.Kind == FigureKind.Bars || !numericX)
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                Enumerable.Range(0, xLabels.Count).Select(i => (double)i).ToArray(), xLabels.ToArray());
        else if (spec.LogX) FigureSet.LogX(plot);
        if (spec.LogY) FigureSet.LogY(plot);
        // Room above the data for the legend inside the axes: the canvas is sized for a paper column.
        if (spec.Kind == FigureKind.Bars) plot.Axes.Margins(bottom: 0, top: 0.35);
        else plot.Axes.Margins(top: 0.35);
        plot.XLabel(spec.XLabel ?? spec.X!);
        plot.YLabel(spec.YLabel ?? metric);
        plot.ShowLegend(Alignment.UpperRight);
        plot.Legend.Orientation = Orientation.Horizontal;
        if (ci) notes.Add("whiskers: 95% confidence intervals over seeds");
        return plot;
    }

    private static Plot? Cdf(string dir, SweepManifest manifest, FigureSpec spec, List<SweepResults.RunRow> runs, List<string> notes)
    {
        if (runs.Count == 0) return null;
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var series = Labels(manifest, spec.Series);
        var seriesIndex = Index(manifest, spec.Series);
        for (var s = 0; s < series.Count; s++)
        {
            var mine = runs.Where(r => r.Run.Coordinates[seriesIndex] == series[s]).DistinctBy(r => r.Run.Hash).ToList();
            if (mine.Count == 0) continue;
            var (x, y) = spec.Source == CdfSource.SchedulingOverhead
                ? HistogramCdf(mine.Select(r => Path.Combine(SweepManifest.RunDir(dir, r.Run.Hash), ScheduleHistogramFile)), spec.Scale)
                : ResultsTable.Cdf(mine.SelectMany(r => Values(SweepManifest.RunDir(dir, r.Run.Hash), spec.Source!.Value)).Select(v => v * spec.Scale));
            if (x.Length == 0) continue;
            var (drawnX, drawnY) = ResultsTable.Thin(x.Select(v => Transform(v, spec.LogX)).ToArray(), y);
            var line = plot.Add.ScatterLine(drawnX, drawnY);
            line.LegendText = series[s];
            line.Color = palette.GetColor(s);
            line.LineWidth = 2;
            if (spec.Source == CdfSource.SchedulingOverhead) line.ConnectStyle = ConnectStyle.StepHorizontal; // the CDF is known at bucket bounds only
            if (spec.Marker is { } m)
            {
                var below = ShareAtOrBelow(x, y, m);
                notes.Add($"{series[s]}: {below:P1} at or below {m.ToString("G4", CultureInfo.InvariantCulture)} {spec.XLabel ?? ""}".TrimEnd());
            }
        }
        if (spec.Marker is { } marker)
        {
            var v = plot.Add.VerticalLine(Transform(marker, spec.LogX));
            v.LinePattern = LinePattern.Dashed;
            v.Color = Colors.Gray;
        }
        if (spec.LogX) FigureSet.LogX(plot);
        plot.Axes.SetLimitsY(0, 1.02);
        plot.XLabel(spec.XLabel ?? ConfigNames.EnumName(spec.Source!.Value));
        plot.YLabel(spec.YLabel ?? "cumulative fraction");
        plot.ShowLegend(Alignment.LowerRight);
        if (spec.Source == CdfSource.SchedulingOverhead) notes.Add("wall-clock time of the policy's decisions on the simulating machine (not simulated time): varies between runs");
        if (spec.Source == CdfSource.EngineHostTime)
            notes.Add("modelled host time of the engine each policy stands for (cost_model.engine_cpu), per pass, that the GPU waited for: deterministic");
        return plot;
    }

    /// <summary>The per-run values a CDF draws.</summary>
    public static IEnumerable<double> Values(string runDir, CdfSource source)
    {
        switch (source)
        {
            case CdfSource.DecodeIterationTime:
            case CdfSource.IterationTime:
                var cols = ResultsTable.ReadColumns(Path.Combine(runDir, ResultsWriter.IterationsFile), "duration_s", "prefill_seqs");
                for (var i = 0; i < cols["duration_s"].Length; i++)
                    if (source == CdfSource.IterationTime || cols["prefill_seqs"][i] == 0) yield return cols["duration_s"][i];
                break;
            case CdfSource.EngineHostTime:
                foreach (var v in ResultsTable.ReadColumns(Path.Combine(runDir, ResultsWriter.IterationsFile), "host_s")["host_s"]) yield return v;
                break;
            case CdfSource.Ttft:
            case CdfSource.Tpot:
                var column = source == CdfSource.Ttft ? "ttft_s" : "tpot_s";
                foreach (var v in ResultsTable.ReadColumns(Path.Combine(runDir, ResultsWriter.RequestsFile), column)[column]) yield return v;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(source), source, "read from the scheduling histogram");
        }
    }

    /// <summary>The CDF at the bucket upper bounds of the runs' scheduling histograms, pooled.</summary>
    private static (double[] X, double[] Y) HistogramCdf(IEnumerable<string> files, double scale)
    {
        var counts = new SortedDictionary<double, double>();
        foreach (var file in files.Where(File.Exists))
        {
            var cols = ResultsTable.ReadColumns(file, "upper_us", "decisions");
            for (var i = 0; i < cols["upper_us"].Length; i++)
                counts[cols["upper_us"][i]] = counts.GetValueOrDefault(cols["upper_us"][i]) + cols["decisions"][i];
        }
        var total = counts.Values.Sum();
        if (total == 0) return ([], []);
        var cumulative = 0.0;
        var x = new List<double>();
        var y = new List<double>();
        foreach (var (upper, n) in counts)
        {
            cumulative += n;
            x.Add(upper * scale);
            y.Add(cumulative / total);
        }
        return (x.ToArray(), y.ToArray());
    }

    private static double ShareAtOrBelow(double[] x, double[] y, double at)
    {
        var i = Array.FindLastIndex(x, v => v <= at);
        return i < 0 ? 0 : y[i];
    }

    private static double Transform(double v, bool log) => log ? Math.Log10(Math.Max(v, 1e-12)) : v;

    private static bool TryNumber(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    private static int Index(SweepManifest manifest, string dimension) =>
        manifest.Dimensions.Select((d, i) => (d, i)).First(p => p.d.Name == dimension).i;

    private static IReadOnlyList<string> Labels(SweepManifest manifest, string dimension) =>
        manifest.Dimensions.First(d => d.Name == dimension).Labels;

    public static string FileSafe(string label) =>
        new(label.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
}
