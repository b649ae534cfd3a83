using System.Globalization;
using Simulator.Config;
using Simulator.Output;
using Simulator.Plots;

namespace Simulator.Reports;

/// <summary>
/// report.html of a run's (or a study's) results folder, read from its files alone so <c>plot</c> rebuilds it: the
/// headline metrics of summary.csv with their definitions (every metric the file holds, known or not), every figure
/// under figures/, the short tables in full, links to every file, and the resolved config.
/// </summary>
public static class RunReport
{
    private const string SummaryPrefix = "summary.";
    private static readonly string[] DistributionFields = ["count", "mean", "p50", "p90", "p99"];

    /// <summary>Captions of the run figures (<see cref="FigureSet"/>) and the study's, in the order they are shown.</summary>
    private static readonly (string Stem, string Title, string Caption)[] KnownFigures =
    [
        ("latency_cdf", "Request latency", "Empirical CDFs of TTFT, TPOT and E2E latency over the finished requests (log scale)."),
        ("iteration_time_cdf", "Iteration time", "Empirical CDF of forward-pass durations, per GPU role."),
        ("bubble_breakdown", "Decode-GPU time", "Each decode-capable GPU's makespan split into compute and the three bubble levels."),
        ("kv_transfer_throughput", "KV transfer throughput", "Bytes of KV copies in flight per unit time, per kind of copy."),
        ("kv_pool_occupancy", "Host KV pool", "KV held in each node's host pool over time."),
        ("iteration_latency", "Iteration latency", "Decode iteration latency against the share of long requests in the batch, per kernel family."),
    ];

    public static string Write(string dir) => HtmlReport.Write(dir, "run.liquid", Build(dir));

    public static RunPage Build(string dir)
    {
        var summary = File.Exists(Path.Combine(dir, ResultsWriter.SummaryCsvFile))
            ? ResultsTable.ReadRows(Path.Combine(dir, ResultsWriter.SummaryCsvFile)).Select(r => (Name: r["metric"], Value: r["value"])).ToList()
            : [];
        var values = summary.ToDictionary(m => m.Name, m => m.Value);
        var metrics = summary.Where(m => m.Name.StartsWith(SummaryPrefix, StringComparison.Ordinal))
            .Select(m => (Name: m.Name[SummaryPrefix.Length..], m.Value))
            .Concat(summary.Where(m => m.Name.StartsWith("workload.", StringComparison.Ordinal) && m.Name != "workload.source"))
            .ToList();
        var distributions = Distributions(metrics);
        var inDistribution = distributions.SelectMany(d => DistributionFields.Select(f => $"{d.Name}.{f}")).ToHashSet();
        var scalars = metrics.Where(m => !inDistribution.Contains(m.Name)).ToDictionary(m => m.Name, m => m.Value);
        var all = scalars.Select(kv => Metric(kv.Key, kv.Value)).ToList();
        var headline = MetricGlossary.Headline.Where(scalars.ContainsKey).Select(h => Metric(h, scalars[h])).ToList();

        var notesPath = Path.Combine(dir, ResultsWriter.NotesFile);
        var configPath = Path.Combine(dir, ResultsWriter.ResolvedConfigFile);
        var config = File.Exists(configPath) ? File.ReadAllText(configPath) : "";
        var figures = Figures(dir);
        var tables = Directory.EnumerateFiles(dir, "*.csv").Select(Path.GetFileName).OfType<string>()
            .Where(n => n != ResultsWriter.SummaryCsvFile && !ResultsWriter.WallClockFiles.Contains(n))
            .Order(StringComparer.Ordinal)
            .Select(n => ReportParts.Table(dir, n, n, ""))
            .OfType<ReportTable>().Where(t => t.Rows.Count > 0).ToList();
        return new RunPage(
            Header(dir, values, config),
            distributions,
            headline,
            all,
            File.Exists(notesPath) ? File.ReadAllLines(notesPath) : [],
            figures,
            figures.Count > 0 ? "" : "No figures in figures/: a sweep's runs skip them to keep sweeps fast. `plot` on this folder draws them and rebuilds this page.",
            tables,
            ReportParts.Files(dir),
            config);
    }

    private static PageHeader Header(string dir, Dictionary<string, string> values, string config)
    {
        string? Value(string key) => values.TryGetValue(key, out var v) ? v : null;
        var name = Value("run.experiment") ?? ConfigName(config) ?? "results";
        var study = StudyName(config);
        var facts = new List<Fact>();
        void Add(string label, string? value)
        {
            if (!string.IsNullOrEmpty(value)) facts.Add(new Fact(label, value));
        }
        Add("policy", Value("run.policy"));
        Add("model", Value("run.model"));
        Add("GPU", Value("run.gpu"));
        Add("seed", Value("run.seed"));
        Add("workload", Value("workload.source"));
        Add("study", study);
        var pointPath = Path.Combine(dir, Sweeps.SweepManifest.PointFile);
        if (File.Exists(pointPath)) Add("sweep point", File.ReadAllText(pointPath).Replace('\n', ' ').Trim());
        var kind = study is not null ? "study" : "run";
        var lead = study is not null
            ? "A study: the cost model evaluated directly, without serving. Its tables and figures are below; the files beside this page hold the same numbers."
            : "One simulated serving run. Times are simulated time; every number below is read from the CSV and JSON files beside this page.";
        return new PageHeader(name, kind, lead, facts);
    }

    /// <summary>Metrics named X.count, X.mean, X.p50, X.p90, X.p99 as one row, in ms when the mean is under a second.</summary>
    private static List<DistributionRow> Distributions(List<(string Name, string Value)> metrics)
    {
        var byName = metrics.ToDictionary(m => m.Name, m => m.Value);
        var rows = new List<DistributionRow>();
        foreach (var (name, _) in metrics.Where(m => m.Name.EndsWith(".mean", StringComparison.Ordinal)))
        {
            var stem = name[..^".mean".Length];
            if (!DistributionFields.All(f => byName.ContainsKey($"{stem}.{f}"))) continue;
            double Get(string f) => Parse(byName[$"{stem}.{f}"]);
            var seconds = MetricGlossary.Unit(stem) == "s";
            var scale = seconds && Math.Abs(Get("mean")) < 1 ? 1000 : 1;
            var unit = seconds ? (scale == 1000 ? "ms" : "s") : "";
            string F(string f) => HtmlReport.Number(Get(f) * scale);
            var (label, definition) = MetricGlossary.Describe(stem);
            rows.Add(new DistributionRow(stem, label, unit, byName[$"{stem}.count"], F("mean"), F("p50"), F("p90"), F("p99"), definition));
        }
        return rows;
    }

    private static MetricRow Metric(string name, string value)
    {
        var (label, definition) = MetricGlossary.Describe(name);
        return new MetricRow(name, label, Format(name, value), definition);
    }

    /// <summary>A metric's value as shown: shares as percentages, others with the unit their name carries.</summary>
    private static string Format(string name, string value)
    {
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) return value;
        var last = name.Split('.')[^1];
        if (name.Split('.')[0] is var head && (head.EndsWith("_fraction", StringComparison.Ordinal) || head.EndsWith("_share", StringComparison.Ordinal)
            || last.EndsWith("utilisation", StringComparison.Ordinal) || head == "busy_fraction_by_role"))
            return double.IsFinite(v) ? (v * 100).ToString("0.##", CultureInfo.InvariantCulture) + " %" : "-";
        var unit = MetricGlossary.Unit(name);
        var text = value.All(c => char.IsAsciiDigit(c) || c == '-') ? value : HtmlReport.Number(v);
        return unit.Length > 0 ? $"{text} {unit}" : text;
    }

    private static List<ReportFigure> Figures(string dir)
    {
        var folder = Path.Combine(dir, FigureSet.Folder);
        if (!Directory.Exists(folder)) return [];
        var stems = Directory.EnumerateFiles(folder, "*.svg").Select(Path.GetFileNameWithoutExtension).OfType<string>().ToList();
        var known = KnownFigures.Where(k => stems.Contains(k.Stem)).ToList();
        var others = stems.Where(s => KnownFigures.All(k => k.Stem != s)).Order(StringComparer.Ordinal).Select(s => (Stem: s, Title: s.Replace('_', ' '), Caption: ""));
        return known.Concat(others).Select((f, i) => ReportParts.Figure(dir, f.Stem, i, f.Title, f.Caption, [])).ToList();
    }

    private static string? ConfigName(string config) => TopLevel(config, "name");

    private static string? StudyName(string config) => TopLevel(config, "study");

    private static string? TopLevel(string config, string key)
    {
        if (config.Length == 0) return null;
        try
        {
            return YamlReader.ReadDocument(config, ResultsWriter.ResolvedConfigFile)[key] is ScalarNode s ? s.Value : null;
        }
        catch (ConfigException)
        {
            return null;   // a page for a folder with a broken config still shows everything else
        }
    }

    private static double Parse(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN;
}
