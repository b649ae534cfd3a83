using System.Text.Json;
using Simulator.Metrics;
using Simulator.Output;
using Simulator.Workload;

namespace Simulator.Sweeps;

/// <summary>
/// The metric columns of runs.csv and points.csv: every numeric row of a run's summary.csv,
/// named as there without the <c>summary.</c> prefix (<c>ttft_s.p99</c>, <c>workload.requests</c>).
/// </summary>
public static class MetricColumns
{
    private const string SummaryPrefix = "summary.";
    private const string WorkloadPrefix = "workload.";

    /// <summary>Columns every run has, in summary.csv order (dictionary-valued metrics add per-key columns after their prefix).</summary>
    public static IReadOnlyList<string> Fixed { get; } = BuildFixed();

    private static readonly string[] Prefixes = [.. DictionaryFields().Select(f => f + ".")];

    public static bool IsKnown(string metric) => Fixed.Contains(metric) || Prefixes.Any(p => metric.StartsWith(p, StringComparison.Ordinal) && metric.Length > p.Length);

    /// <summary>A run's numeric metrics from its summary.csv, in file order.</summary>
    public static IReadOnlyList<(string Name, double Value)> Read(string runDir)
    {
        var rows = Plots.ResultsTable.ReadRows(Path.Combine(runDir, ResultsWriter.SummaryCsvFile));
        var metrics = new List<(string, double)>();
        foreach (var row in rows)
        {
            var name = row["metric"];
            var column = name.StartsWith(SummaryPrefix, StringComparison.Ordinal) ? name[SummaryPrefix.Length..]
                : name.StartsWith(WorkloadPrefix, StringComparison.Ordinal) ? name : null;
            if (column is null) continue;
            if (double.TryParse(row["value"], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v))
                metrics.Add((column, v));
            else if (row["value"] is "NaN" or "\"NaN\"") metrics.Add((column, double.NaN));
        }
        return metrics;
    }

    private static List<string> BuildFixed()
    {
        var names = new List<string>();
        foreach (var p in typeof(WorkloadStats).GetProperties().Where(p => IsNumber(p.PropertyType)))
            names.Add(WorkloadPrefix + Snake(p.Name));
        foreach (var p in typeof(RunSummary).GetProperties())
        {
            if (p.PropertyType == typeof(Distribution))
                names.AddRange(typeof(Distribution).GetProperties().Select(q => $"{Snake(p.Name)}.{Snake(q.Name)}"));
            else if (IsNumber(p.PropertyType)) names.Add(Snake(p.Name));
        }
        return names;
    }

    private static IEnumerable<string> DictionaryFields() => typeof(RunSummary).GetProperties()
        .Where(p => p.PropertyType.IsGenericType && p.PropertyType.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>))
        .Select(p => Snake(p.Name));

    private static bool IsNumber(Type t) => t == typeof(int) || t == typeof(long) || t == typeof(double);

    private static string Snake(string name) => JsonNamingPolicy.SnakeCaseLower.ConvertName(name);
}
