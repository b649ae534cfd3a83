using Simulator.Output;
using Simulator.Plots;

namespace Simulator.Claims;

/// <summary>
/// One paper sweep's written results (<c>points.csv</c>, <c>runs.csv</c>, the runs' folders) as the claims ledger reads
/// them: a metric at the point whose dimensions carry given labels, or a run's folder. A sweep that was not run (or
/// failed, e.g. without the traces) reads as NaN and null, and its claims as not run.
/// </summary>
public sealed class PaperResults
{
    private readonly List<Dictionary<string, string>> points;
    private readonly List<Dictionary<string, string>> runs;

    public PaperResults(string dir)
    {
        Dir = dir;
        var pointsFile = Path.Combine(dir, "points.csv");
        var runsFile = Path.Combine(dir, "runs.csv");
        points = File.Exists(pointsFile) ? ResultsTable.ReadRows(pointsFile) : [];
        runs = File.Exists(runsFile) ? ResultsTable.ReadRows(runsFile) : [];
    }

    public string Dir { get; }

    /// <summary>The folder's name, e.g. <c>paper-throughput</c>.</summary>
    public string Name => Path.GetFileName(Dir);

    /// <summary>A metric's mean over seeds at the point whose dimensions carry these labels; NaN when absent.</summary>
    public double Metric(string metric, params (string Dimension, string Label)[] at)
    {
        var row = points.FirstOrDefault(p => Matches(p, at));
        return row is not null && row.TryGetValue(metric, out var text) && text.Length > 0 ? ResultsTable.Number(text) : double.NaN;
    }

    /// <summary>The labels of one dimension, in points.csv order.</summary>
    public IReadOnlyList<string> Labels(string dimension) =>
        points.Where(p => p.ContainsKey(dimension)).Select(p => p[dimension]).Distinct().ToList();

    /// <summary>The folder of the first finished run (lowest seed) at these labels; null when none.</summary>
    public string? RunDir(params (string Dimension, string Label)[] at)
    {
        var row = runs.FirstOrDefault(r => Matches(r, at) && r.GetValueOrDefault("status") == "ok");
        if (row is null) return null;
        var dir = Path.Combine(Dir, "runs", row["hash"]);
        return Directory.Exists(dir) ? dir : null;
    }

    /// <summary>Share of a run's decode passes (no prefill in them) on decode-capable GPUs that took under <paramref name="seconds"/>, as the iteration-CDF figure counts them.</summary>
    public static double DecodePassShareUnder(string? runDir, double seconds)
    {
        if (runDir is null || !File.Exists(Path.Combine(runDir, ResultsWriter.IterationsFile))) return double.NaN;
        var decodeGpus = ResultsTable.ReadRows(Path.Combine(runDir, ResultsWriter.GpusFile))
            .Where(g => g["role"] != "prefill").Select(g => g["gpu"]).ToHashSet();
        var cols = ResultsTable.ReadColumns(Path.Combine(runDir, ResultsWriter.IterationsFile), "gpu", "duration_s", "prefill_seqs");
        int all = 0, under = 0;
        for (var i = 0; i < cols["gpu"].Length; i++)
        {
            if (cols["prefill_seqs"][i] != 0 || !decodeGpus.Contains(((int)cols["gpu"][i]).ToString(System.Globalization.CultureInfo.InvariantCulture))) continue;
            all++;
            if (cols["duration_s"][i] < seconds) under++;
        }
        return all == 0 ? double.NaN : under / (double)all;
    }

    /// <summary>Share of a run's passes whose modelled engine host time exceeded <paramref name="seconds"/>.</summary>
    public static double HostTimeShareOver(string? runDir, double seconds)
    {
        if (runDir is null || !File.Exists(Path.Combine(runDir, ResultsWriter.IterationsFile))) return double.NaN;
        var host = ResultsTable.ReadColumns(Path.Combine(runDir, ResultsWriter.IterationsFile), "host_s")["host_s"];
        return host.Length == 0 ? double.NaN : host.Count(h => h > seconds) / (double)host.Length;
    }

    /// <summary>Share of a run's measured policy decisions over <paramref name="microseconds"/> (histogram buckets wholly above it; wall-clock).</summary>
    public static double DecisionShareOver(string? runDir, double microseconds)
    {
        var file = runDir is null ? null : Path.Combine(runDir, ResultsWriter.SchedulingHistogramFile);
        if (file is null || !File.Exists(file)) return double.NaN;
        var rows = ResultsTable.ReadRows(file).Select(r => (Upper: ResultsTable.Number(r["upper_us"]), Count: ResultsTable.Number(r["decisions"]))).ToList();
        var total = rows.Sum(r => r.Count);
        // A bucket's lower edge is the previous bucket's upper one: count the buckets that start at or above the threshold.
        double over = 0, lower = 0;
        foreach (var (upper, count) in rows.OrderBy(r => r.Upper))
        {
            if (lower >= microseconds) over += count;
            lower = upper;
        }
        return total == 0 ? double.NaN : over / total;
    }

    /// <summary>The longest value of a requests.csv column in a run (NaN cells skipped).</summary>
    public static double RequestMax(string? runDir, string column)
    {
        if (runDir is null || !File.Exists(Path.Combine(runDir, ResultsWriter.RequestsFile))) return double.NaN;
        var values = ResultsTable.ReadColumns(Path.Combine(runDir, ResultsWriter.RequestsFile), column)[column].Where(double.IsFinite).ToArray();
        return values.Length == 0 ? double.NaN : values.Max();
    }

    private static bool Matches(Dictionary<string, string> row, (string Dimension, string Label)[] at) =>
        at.All(a => row.TryGetValue(a.Dimension, out var v) && v == a.Label);
}
