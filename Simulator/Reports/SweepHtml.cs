using Simulator.Output;
using Simulator.Sweeps;

namespace Simulator.Reports;

/// <summary>
/// report.html of a sweep, from the folder (sweep.json, points.csv, runs/) and the figures just drawn: what was
/// swept, each figure's series over its baseline, every figure, the points with 95% confidence half-widths and
/// their ratio to the baseline point, every run with a link to its own page, failures, and the resolved config.
/// </summary>
public static class SweepHtml
{
    public static string Write(string dir, SweepManifest manifest, IReadOnlyList<SweepResults.RunRow> runs, IReadOnlyList<RenderedFigure> figures) =>
        HtmlReport.Write(dir, "sweep.liquid", Build(dir, manifest, runs, figures));

    public static SweepPage Build(string dir, SweepManifest manifest, IReadOnlyList<SweepResults.RunRow> runs, IReadOnlyList<RenderedFigure> figures)
    {
        var points = SweepResults.ReadPoints(dir);
        var distinct = runs.DistinctBy(r => r.Run.Hash).ToList();
        var seeds = runs.Select(r => r.Run.Seed).Distinct().ToList();
        var header = new PageHeader(manifest.Name, "sweep",
            "A parameter sweep: each point ran once per seed; every number below is read from points.csv, runs.csv and the runs' folders.",
            [
                new Fact("points", $"{manifest.Points}"),
                new Fact("runs", $"{runs.Count} ({distinct.Count(r => r.State == RunState.Done)} done, {distinct.Count(r => r.State == RunState.Failed)} failed, "
                    + $"{distinct.Count(r => r.State == RunState.Missing)} missing)"),
                new Fact("seeds", string.Join(", ", seeds)),
            ]);
        var swept = new ReportTable("swept", "Swept", "", "", ["dimension", "config paths", "values"], [false, false, false],
            [
                .. manifest.Dimensions.Select(d => new TableRow([d.Name, string.Join(", ", d.Paths), string.Join(", ", d.Labels)])),
                new TableRow(["seed", "seed", string.Join(", ", seeds)]),
            ]);
        var ratios = BaselineRatios.Of(manifest, figures, points).Select(r => new RatioGroup(
            Caption(r.Figure), r.Figure.Spec.Metric!, r.Figure.Spec.Series, r.Baseline, r.Figure.Spec.X!,
            r.Series.Select(s => new RatioRow(s.Series, Ratio(s.GeometricMean), Ratio(s.Min), Ratio(s.Max), $"{s.Count}")).ToList())).ToList();
        var shown = figures.Select((f, i) => ReportParts.Figure(dir, f.Stem, i, Caption(f), "", f.Notes)).ToList();
        var first = distinct.FirstOrDefault(r => r.State != RunState.Missing);
        var source = Path.Combine(dir, SweepReport.SourceCopy);
        return new SweepPage(
            header, swept, ratios, shown,
            Points(manifest, figures, points),
            manifest.RepeatsSeeds
                ? "Each cell is the mean over the point's seeds ± the 95% confidence half-width (Student's t, n - 1 degrees of freedom)."
                : "One seed per point: no confidence intervals (repeat seeds with sweep.seeds to get them).",
            runs.Select(r => new SweepRunRow($"{r.Run.Run}", $"{r.Run.Point}", SweepReport.Describe(manifest, r.Run), SweepResults.Status(r.State),
                RunHref(dir, r), r.Error ?? "")).ToList(),
            distinct.Where(r => r.State == RunState.Failed).Select(r => $"{r.Run.Hash} ({SweepReport.Describe(manifest, r.Run)}): {r.Error}").ToList(),
            ReportParts.Files(dir),
            first is null ? "" : $"The first run's ({SweepReport.Describe(manifest, first.Run)}); every run's is in runs/<hash>/{ResultsWriter.ResolvedConfigFile}.",
            first is null ? "" : File.ReadAllText(Path.Combine(SweepManifest.RunDir(dir, first.Run.Hash), ResultsWriter.ResolvedConfigFile)),
            File.Exists(source) ? File.ReadAllText(source) : "");
    }

    /// <summary>
    /// The points with the report's metrics (the headline ones and every figure's) as mean ± CI, then, per bar or line
    /// figure, the ratio of its metric to the point that differs only in the series dimension, set to the baseline.
    /// </summary>
    private static ReportTable Points(SweepManifest manifest, IReadOnlyList<RenderedFigure> figures, List<Dictionary<string, string>> points)
    {
        var metrics = SweepReport.Headline.Concat(figures.Select(f => f.Spec.Metric).OfType<string>()).Distinct()
            .Where(m => points.Count > 0 && points[0].ContainsKey(m)).ToList();
        var baselines = figures.Where(f => f.Spec.Kind != FigureKind.Cdf && f.Spec.Metric is not null && points.Count > 0 && points[0].ContainsKey(f.Spec.Metric))
            .Select(f => (Metric: f.Spec.Metric!, Dimension: f.Spec.Series, Baseline: f.Spec.Baseline ?? manifest.Dimensions.First(d => d.Name == f.Spec.Series).Labels[0]))
            .Distinct().ToList();
        string[] header =
        [
            "point", .. manifest.Dimensions.Select(d => d.Name), "runs", .. metrics,
            .. baselines.Select(b => $"{b.Metric} / {b.Dimension}={b.Baseline}"),
        ];
        var rows = points.Select(p => new TableRow(
        [
            p["point"], .. manifest.Dimensions.Select(d => p[d.Name]), p["runs_done"],
            .. metrics.Select(m => HtmlReport.Cell(p[m]) is var v && v.Length > 0 ? v + CiOf(p, m) : "-"),
            .. baselines.Select(b => Ratio(BaselineRatios.PointRatio(manifest, points, p, b.Metric, b.Dimension, b.Baseline))),
        ])).ToList();
        var numeric = header.Select((_, i) => i == 0 || i > manifest.Dimensions.Count).ToList();
        return new ReportTable("points", "Points", "", SweepResults.PointsTable, header, numeric, rows);
    }

    /// <summary>A run's page, or its folder when it has none (it failed, or an earlier version wrote it).</summary>
    private static string RunHref(string dir, SweepResults.RunRow r)
    {
        var folder = $"{SweepManifest.RunsFolder}/{r.Run.Hash}/";
        return File.Exists(Path.Combine(SweepManifest.RunDir(dir, r.Run.Hash), HtmlReport.File)) ? folder + HtmlReport.File : folder;
    }

    private static string CiOf(Dictionary<string, string> p, string metric) =>
        p.TryGetValue(metric + SweepResults.CiSuffix, out var ci) && BaselineRatios.TryNumber(ci, out var half) ? $" ± {HtmlReport.Number(half)}" : "";

    private static string Caption(RenderedFigure f) => (f.Spec.Title ?? f.Spec.Name) + (f.Panel is null ? "" : $" ({f.Spec.Panels} = {f.Panel})");

    private static string Ratio(double r) => double.IsFinite(r) ? r.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture) + "×" : "-";
}
