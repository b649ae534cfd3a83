using Simulator.Output;
using Simulator.Plots;

namespace Simulator.Reports;

/// <summary>Pieces both pages build from a results folder: figures, tables from CSVs, the list of files.</summary>
internal static class ReportParts
{
    /// <summary>Tables up to this many rows are shown in full on the page; longer ones are only linked.</summary>
    public const int MaxShownRows = 40;

    private static readonly Dictionary<string, string> Descriptions = new(StringComparer.Ordinal)
    {
        [ResultsWriter.RequestsFile] = "one row per request: arrival, tokens, first token, finish, TTFT, TPOT, E2E, preemptions",
        [ResultsWriter.IterationsFile] = "one row per forward pass: GPU, start, duration, batch, tokens, KV lengths, cost parts, bubble",
        [ResultsWriter.GpusFile] = "per GPU: role, passes, busy time, iteration-level bubble, time waiting for KV",
        [ResultsWriter.LinksFile] = "per link: bandwidth, bytes carried, utilisation over the makespan",
        [ResultsWriter.TransfersFile] = "every KV copy: request, kind, endpoints, bytes, start and end",
        [ResultsWriter.PoolFile] = "host KV pool occupancy after every change, per node",
        [ResultsWriter.SummaryCsvFile] = "the headline metrics as metric,value rows",
        [ResultsWriter.SummaryJsonFile] = "the headline metrics as JSON",
        [ResultsWriter.ResolvedConfigFile] = "the experiment with every default filled in; runs as given",
        [ResultsWriter.NotesFile] = "notes on how the run was priced",
        [ResultsWriter.TimingFile] = "wall-clock measurements (not deterministic)",
        [ResultsWriter.SchedulingHistogramFile] = "wall-clock policy decision times as a histogram (not deterministic)",
        [Sweeps.SweepManifest.PointFile] = "this run's place in its sweep",
        [Sweeps.SweepManifest.File] = "the expanded plan: every run, its point and hash",
        [Sweeps.SweepManifest.FiguresFile] = "the figure specs; edit and run plot to redraw",
        [Sweeps.SweepResults.PointsTable] = "one row per point: means and 95% confidence half-widths over seeds",
        [Sweeps.SweepResults.RunsTable] = "one row per run, every metric",
        [Sweeps.SweepReport.File] = "this report as Markdown",
        [Sweeps.SweepReport.SourceCopy] = "the sweep file as given",
    };

    /// <summary>Every file directly in the folder but the page itself and hidden ones, in ordinal order, then figures/.</summary>
    public static List<ReportFile> Files(string dir)
    {
        var files = Directory.EnumerateFiles(dir)
            .Select(Path.GetFileName).OfType<string>()
            .Where(n => n != HtmlReport.File && !n.StartsWith('.'))
            .Order(StringComparer.Ordinal)
            .Select(n => new ReportFile(n, Descriptions.GetValueOrDefault(n, "")))
            .ToList();
        if (Directory.Exists(Path.Combine(dir, FigureSet.Folder)))
            files.Add(new ReportFile(FigureSet.Folder + "/", "every figure as PNG and SVG"));
        return files;
    }

    /// <summary>A figure of figures/ inlined; <paramref name="index"/> makes its ids unique in the page.</summary>
    public static ReportFigure Figure(string dir, string stem, int index, string title, string caption, IReadOnlyList<string> notes)
    {
        var id = $"fig{index + 1}";
        var svg = Path.Combine(dir, FigureSet.Folder, stem + ".svg");
        return new ReportFigure(id, title, caption, InlineSvg.Read(svg, id, title), $"{FigureSet.Folder}/{stem}.svg", $"{FigureSet.Folder}/{stem}.png", notes);
    }

    /// <summary>A CSV of the folder as a table (numbers at four significant digits), or null when it is longer than <see cref="MaxShownRows"/>.</summary>
    public static ReportTable? Table(string dir, string file, string title, string caption)
    {
        var path = Path.Combine(dir, file);
        var lines = File.ReadLines(path).Take(MaxShownRows + 2).Count();
        if (lines > MaxShownRows + 1) return null;
        var rows = ResultsTable.ReadRows(path);
        var header = rows.Count > 0 ? rows[0].Keys.ToList() : HeaderOf(path);
        var numeric = header.Select(h => rows.Count > 0 && rows.All(r => r[h].Length == 0 || IsNumber(r[h]))).ToList();
        return new ReportTable(Anchor(file), title, caption, file, header, numeric,
            rows.Select(r => new TableRow(header.Select(h => HtmlReport.Cell(r[h])).ToList())).ToList());
    }

    public static string Anchor(string name) => "t-" + new string(name.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray());

    public static bool IsNumber(string text) => double.TryParse(text, System.Globalization.NumberStyles.Float,
        System.Globalization.CultureInfo.InvariantCulture, out _) || text is "NaN";

    private static List<string> HeaderOf(string path) => (File.ReadLines(path).FirstOrDefault() ?? "").Split(',').ToList();
}
