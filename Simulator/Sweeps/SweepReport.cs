using System.Globalization;
using System.Text;
using Simulator.Output;
using Simulator.Plots;

namespace Simulator.Sweeps;

/// <summary>
/// report.md of a sweep: what was swept, the headline ratios of each bar and line figure against
/// its baseline series, the figures, the table of points, failures, and the resolved config.
/// Deterministic for deterministic figures (no dates, no wall-clock figures).
/// </summary>
public static class SweepReport
{
    public const string File = "report.md";
    public const string SourceCopy = "sweep.source.yaml";

    /// <summary>Metrics always shown in the report's table of points (when present).</summary>
    private static readonly string[] Headline =
        ["decode_throughput_tokens_per_s", "request_throughput_per_s", "ttft_s.mean", "tpot_s.p99", "iteration_time_s.p50", "preemptions"];

    public static void Write(string dir, SweepManifest manifest, IReadOnlyList<SweepResults.RunRow> runs, IReadOnlyList<RenderedFigure> figures)
    {
        var points = SweepResults.ReadPoints(dir);
        var md = new StringBuilder();
        var distinct = runs.DistinctBy(r => r.Run.Hash).ToList();
        md.AppendLine($"# Sweep `{manifest.Name}`").AppendLine();
        md.AppendLine($"{manifest.Points} points, {runs.Count} runs ({distinct.Count(r => r.State == RunState.Done)} done, "
            + $"{distinct.Count(r => r.State == RunState.Failed)} failed, {distinct.Count(r => r.State == RunState.Missing)} missing). "
            + $"Tables: [`{SweepResults.PointsTable}`]({SweepResults.PointsTable}) (one row per point{(manifest.RepeatsSeeds ? "; `_ci95` columns are 95% confidence half-widths over seeds (Student's t)" : "")}), "
            + $"[`{SweepResults.RunsTable}`]({SweepResults.RunsTable}) (one row per run); each run's files are under `runs/<hash>/`.").AppendLine();

        md.AppendLine("## Swept").AppendLine();
        md.AppendLine("| dimension | config paths | values |").AppendLine("|---|---|---|");
        foreach (var d in manifest.Dimensions)
            md.AppendLine($"| {d.Name} | {string.Join(", ", d.Paths.Select(p => $"`{p}`"))} | {string.Join(", ", d.Labels)} |");
        var seeds = runs.Select(r => r.Run.Seed).Distinct().ToList();
        md.AppendLine($"| seed | `seed` | {string.Join(", ", seeds)} |").AppendLine();

        var ratios = Ratios(manifest, figures, points);
        if (ratios.Length > 0) md.AppendLine("## Headline ratios").AppendLine().Append(ratios);

        if (figures.Count > 0)
        {
            md.AppendLine("## Figures").AppendLine();
            foreach (var f in figures)
            {
                md.AppendLine($"### {f.Spec.Title ?? f.Spec.Name}{(f.Panel is null ? "" : $" ({f.Spec.Panels} = {f.Panel})")}").AppendLine();
                md.AppendLine($"![{f.Stem}]({FigureSet.Folder}/{f.Stem}.png)").AppendLine();
                foreach (var note in f.Notes) md.AppendLine($"- {note}");
                if (f.Notes.Count > 0) md.AppendLine();
            }
        }

        md.AppendLine("## Points").AppendLine();
        var shown = Headline.Concat(figures.Select(f => f.Spec.Metric).OfType<string>()).Distinct()
            .Where(m => points.Count > 0 && points[0].ContainsKey(m)).ToList();
        md.AppendLine($"| point | {string.Join(" | ", manifest.Dimensions.Select(d => d.Name))} | runs | {string.Join(" | ", shown)} |");
        md.AppendLine($"|---|{string.Concat(manifest.Dimensions.Select(_ => "---|"))}---|{string.Concat(shown.Select(_ => "---:|"))}");
        foreach (var p in points)
        {
            var cells = shown.Select(m => Number(p[m]) + (p.TryGetValue(m + SweepResults.CiSuffix, out var ci) && ci.Length > 0 ? $" ± {Number(ci)}" : ""));
            md.AppendLine($"| {p["point"]} | {string.Join(" | ", manifest.Dimensions.Select(d => p[d.Name]))} | {p["runs_done"]} | {string.Join(" | ", cells)} |");
        }
        md.AppendLine();

        var failed = distinct.Where(r => r.State == RunState.Failed).ToList();
        if (failed.Count > 0)
        {
            md.AppendLine("## Failed runs").AppendLine();
            foreach (var r in failed)
                md.AppendLine($"- `{r.Run.Hash}` ({Describe(manifest, r.Run)}): {r.Error}");
            md.AppendLine();
        }

        md.AppendLine("## Resolved config").AppendLine();
        var first = distinct.FirstOrDefault(r => r.State != RunState.Missing);
        if (first is not null)
        {
            md.AppendLine($"The first run's ({Describe(manifest, first.Run)}); every run's is in `runs/<hash>/{ResultsWriter.ResolvedConfigFile}`.").AppendLine();
            md.AppendLine("```yaml").Append(System.IO.File.ReadAllText(Path.Combine(SweepManifest.RunDir(dir, first.Run.Hash), ResultsWriter.ResolvedConfigFile))).AppendLine("```").AppendLine();
        }
        var source = Path.Combine(dir, SourceCopy);
        if (System.IO.File.Exists(source))
            md.AppendLine("The sweep file as given:").AppendLine().AppendLine("```yaml").Append(System.IO.File.ReadAllText(source).TrimEnd('\n')).AppendLine().AppendLine("```");
        ResultsFolder.WriteFileAtomically(Path.Combine(dir, File), tmp => System.IO.File.WriteAllText(tmp, md.ToString()));
    }

    /// <summary>
    /// For each bar or line figure (and panel): every series over the baseline series, as the
    /// geometric mean over the x values both have, with the smallest and largest ratio.
    /// </summary>
    private static string Ratios(SweepManifest manifest, IReadOnlyList<RenderedFigure> figures, List<Dictionary<string, string>> points)
    {
        var md = new StringBuilder();
        foreach (var f in figures.Where(f => f.Spec.Kind is FigureKind.Bars or FigureKind.Lines))
        {
            var spec = f.Spec;
            var mine = points.Where(p => spec.Filters.All(w => p[w.Dimension] == w.Label) && (f.Panel is null || p[spec.Panels!] == f.Panel)).ToList();
            var series = manifest.Dimensions.First(d => d.Name == spec.Series).Labels;
            var baseline = spec.Baseline ?? series[0];
            var rows = new List<string>();
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
                var geo = Math.Exp(ratios.Average(Math.Log));
                rows.Add($"| {s} | {geo:F3} | {ratios.Min():F3} | {ratios.Max():F3} | {ratios.Count} |");
            }
            if (rows.Count == 0) continue;
            md.AppendLine($"`{spec.Metric}` of each {spec.Series} over `{baseline}` ({spec.Title ?? spec.Name}{(f.Panel is null ? "" : $", {spec.Panels} = {f.Panel}")}):").AppendLine();
            md.AppendLine($"| {spec.Series} | geometric mean | min | max | {spec.X} values |").AppendLine("|---|---:|---:|---:|---:|");
            foreach (var row in rows) md.AppendLine(row);
            md.AppendLine();
        }
        return md.ToString();
    }

    private static string Describe(SweepManifest manifest, ManifestRun run) =>
        string.Join(", ", manifest.Dimensions.Select((d, i) => $"{d.Name}={run.Coordinates[i]}").Append($"seed={run.Seed}"));

    private static bool TryNumber(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    private static string Number(string text) => TryNumber(text, out var v) ? v.ToString("G4", CultureInfo.InvariantCulture) : "-";
}
