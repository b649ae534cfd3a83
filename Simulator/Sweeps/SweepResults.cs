using MathNet.Numerics.Distributions;
using Simulator.Output;
using Simulator.Plots;

namespace Simulator.Sweeps;

/// <summary>
/// Builds a sweep's tables from its run folders: runs.csv (one row per run, every metric) and
/// points.csv (one row per point: the mean over its seeds and, when seeds repeat, the 95%
/// confidence half-width from Student's t); then the figures, report.md and report.html. Everything is
/// derived from the folder (sweep.json + runs/), so <c>merge</c> and <c>plot</c> rebuild it.
/// </summary>
public static class SweepResults
{
    public const string RunsTable = "runs.csv";
    public const string PointsTable = "points.csv";
    public const string CiSuffix = "_ci95";

    /// <summary>One run's row: its manifest entry, state, error and metrics.</summary>
    public sealed record RunRow(ManifestRun Run, RunState State, string? Error, IReadOnlyDictionary<string, double> Metrics);

    /// <summary>Writes runs.csv, points.csv, the figures, report.md and report.html; returns the figure files.</summary>
    public static IReadOnlyList<string> WriteAll(string dir)
    {
        var manifest = SweepManifest.Read(dir);
        var runs = ReadRuns(dir, manifest);
        var metrics = MetricOrder(runs);
        WriteRuns(dir, manifest, runs, metrics);
        WritePoints(dir, manifest, runs, metrics);
        var figures = SweepFigures.RenderAll(dir);
        SweepReport.Write(dir, manifest, runs, figures);
        Reports.SweepHtml.Write(dir, manifest, runs, figures);
        return figures.SelectMany(f => f.Files).ToList();
    }

    public static List<RunRow> ReadRuns(string dir, SweepManifest manifest)
    {
        var cache = new Dictionary<string, RunRow>();
        return manifest.Runs.Select(run =>
        {
            if (cache.TryGetValue(run.Hash, out var same)) return same with { Run = run };
            var state = SweepManifest.StateOf(dir, run.Hash);
            var folder = SweepManifest.RunDir(dir, run.Hash);
            var row = state switch
            {
                RunState.Done => new RunRow(run, state, null, MetricColumns.Read(folder).ToDictionary(m => m.Name, m => m.Value)),
                RunState.Failed => new RunRow(run, state, FirstErrorLine(folder), new Dictionary<string, double>()),
                _ => new RunRow(run, state, null, new Dictionary<string, double>()),
            };
            cache[run.Hash] = row;
            return row;
        }).ToList();
    }

    private static string FirstErrorLine(string folder)
    {
        var lines = File.ReadAllLines(Path.Combine(folder, SweepManifest.ErrorFile));
        return lines.Length > 1 ? lines[1] : lines.FirstOrDefault() ?? "";
    }

    /// <summary>Metric columns: the fixed ones, then any per-key ones in order of first appearance.</summary>
    private static List<string> MetricOrder(List<RunRow> runs)
    {
        var present = runs.SelectMany(r => r.Metrics.Keys).ToHashSet();
        var order = MetricColumns.Fixed.Where(present.Contains).ToList();
        var seen = order.ToHashSet();
        foreach (var run in runs)
            foreach (var name in run.Metrics.Keys) // in the order read (the dictionary keeps insertion order)
                if (seen.Add(name)) order.Add(name);
        return order;
    }

    private static void WriteRuns(string dir, SweepManifest manifest, List<RunRow> runs, List<string> metrics)
    {
        string[] header = ["run", "point", .. manifest.Dimensions.Select(d => d.Name), "seed", "hash", "status", "error", .. metrics];
        ResultsFolder.WriteFileAtomically(Path.Combine(dir, RunsTable), tmp => CsvTable.Write(tmp, header, runs, r =>
        [
            r.Run.Run, r.Run.Point, .. r.Run.Coordinates, r.Run.Seed, r.Run.Hash, Status(r.State), r.Error ?? "",
            .. metrics.Select(m => r.Metrics.TryGetValue(m, out var v) ? (object)v : ""),
        ]));
    }

    private static void WritePoints(string dir, SweepManifest manifest, List<RunRow> runs, List<string> metrics)
    {
        var ci = manifest.RepeatsSeeds;
        string[] header =
        [
            "point", .. manifest.Dimensions.Select(d => d.Name), "runs_done", "runs_failed", "runs_missing",
            .. metrics.SelectMany(m => ci ? new[] { m, m + CiSuffix } : [m]),
        ];
        var points = runs.GroupBy(r => r.Run.Point).OrderBy(g => g.Key).ToList();
        ResultsFolder.WriteFileAtomically(Path.Combine(dir, PointsTable), tmp => CsvTable.Write(tmp, header, points, p =>
        {
            var done = p.Where(r => r.State == RunState.Done).ToList();
            var cells = new List<object>
            {
                p.Key,
            };
            cells.AddRange(p.First().Run.Coordinates);
            cells.Add(done.Count);
            cells.Add(p.Count(r => r.State == RunState.Failed));
            cells.Add(p.Count(r => r.State == RunState.Missing));
            foreach (var m in metrics)
            {
                var values = done.Select(r => r.Metrics.TryGetValue(m, out var v) ? v : double.NaN).Where(double.IsFinite).ToArray();
                var (mean, half) = MeanAndCi(values);
                cells.Add(values.Length > 0 ? mean : "");
                if (ci) cells.Add(values.Length > 1 ? half : "");
            }
            return cells;
        }));
    }

    /// <summary>Mean and 95% confidence half-width (Student's t with n-1 degrees of freedom; NaN below two values).</summary>
    public static (double Mean, double HalfWidth) MeanAndCi(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return (double.NaN, double.NaN);
        var mean = values.Sum() / values.Count;
        if (values.Count < 2) return (mean, double.NaN);
        var variance = values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1);
        var t = StudentT.InvCDF(0, 1, values.Count - 1, 0.975);
        return (mean, t * Math.Sqrt(variance / values.Count));
    }

    public static string Status(RunState state) => state switch
    {
        RunState.Done => "ok",
        RunState.Failed => "failed",
        _ => "missing",
    };

    /// <summary>points.csv rows, for figures and the report.</summary>
    public static List<Dictionary<string, string>> ReadPoints(string dir) => ResultsTable.ReadRows(Path.Combine(dir, PointsTable));
}
