namespace Simulator.Accuracy;

/// <summary>Error of one group of rows (a kernel family on a GPU, or all rows).</summary>
public sealed record AccuracyGroup(string Family, string Gpu, int Rows, int FigureRead, double MedianAbsError, double WorstAbsError, string WorstRow)
{
    /// <summary>Groups by (family, GPU), then the whole set as family "all".</summary>
    public static IReadOnlyList<AccuracyGroup> Of(IReadOnlyList<AccuracyResult> results)
    {
        var groups = results.GroupBy(r => (r.Family, r.Gpu))
            .OrderBy(g => g.Key.Family, StringComparer.Ordinal).ThenBy(g => g.Key.Gpu, StringComparer.Ordinal)
            .Select(g => Make(g.Key.Family, g.Key.Gpu, g.ToList())).ToList();
        if (results.Count > 0) groups.Add(Make("all", "all", results));
        return groups;
    }

    private static AccuracyGroup Make(string family, string gpu, IReadOnlyList<AccuracyResult> rows)
    {
        var sorted = rows.Select(r => r.AbsError).Order().ToArray();
        var worst = rows.MaxBy(r => r.AbsError)!;
        return new AccuracyGroup(family, gpu, rows.Count, rows.Count(r => r.Row.FigureRead), KernelFit.Median(sorted), sorted[^1], worst.Row.Where);
    }
}
