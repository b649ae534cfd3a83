using ScottPlot;
using Simulator.Output;

namespace Simulator.Plots;

/// <summary>
/// The figures of a single run, drawn from its CSVs (so re-plotting needs no re-run), as PNG
/// and SVG under figures/: latency CDFs (TTFT, TPOT, E2E), the iteration-time CDF per GPU
/// role, the GPU-time breakdown with the three bubble levels, and, when KV moved, transfer
/// throughput over time and host KV pool occupancy.
/// </summary>
public static class FigureSet
{
    public const string Folder = "figures";
    public static IReadOnlyList<string> Render(string resultsDir)
    {
        var outDir = Path.Combine(resultsDir, Folder);
        Directory.CreateDirectory(outDir);
        var requests = ResultsTable.ReadColumns(Path.Combine(resultsDir, ResultsWriter.RequestsFile), "ttft_s", "tpot_s", "e2e_s");
        var iterations = ResultsTable.ReadRows(Path.Combine(resultsDir, ResultsWriter.IterationsFile));
        var gpus = ResultsTable.ReadRows(Path.Combine(resultsDir, ResultsWriter.GpusFile));
        var transfers = ResultsTable.ReadRows(Path.Combine(resultsDir, ResultsWriter.TransfersFile));
        var pool = ResultsTable.ReadRows(Path.Combine(resultsDir, ResultsWriter.PoolFile));
        var arrivals = ResultsTable.ReadColumns(Path.Combine(resultsDir, ResultsWriter.RequestsFile), "arrival_s", "finish_s");
        var makespanS = arrivals["finish_s"].DefaultIfEmpty(0).Max() - arrivals["arrival_s"].DefaultIfEmpty(0).Min();
        var figures = new List<string>();
        figures.AddRange(FigureFiles.Save(LatencyCdf(requests), outDir, "latency_cdf"));
        figures.AddRange(FigureFiles.Save(IterationCdf(iterations, gpus), outDir, "iteration_time_cdf"));
        figures.AddRange(FigureFiles.Save(RunFigures.BubbleBreakdown(gpus, makespanS), outDir, "bubble_breakdown"));
        if (transfers.Count > 0) figures.AddRange(FigureFiles.Save(RunFigures.TransferThroughput(transfers), outDir, "kv_transfer_throughput"));
        if (pool.Count > 0) figures.AddRange(FigureFiles.Save(RunFigures.PoolOccupancy(pool), outDir, "kv_pool_occupancy"));
        return figures;
    }

    private static Plot LatencyCdf(Dictionary<string, double[]> requests)
    {
        var plot = new Plot();
        AddCdf(plot, requests["ttft_s"], "TTFT", Colors.C0, log: true);
        AddCdf(plot, requests["tpot_s"], "TPOT", Colors.C1, log: true);
        AddCdf(plot, requests["e2e_s"], "E2E latency", Colors.C2, log: true);
        LogX(plot);
        plot.Title("Request latency CDF");
        plot.XLabel("latency (s, log scale)");
        plot.YLabel("fraction of requests");
        plot.ShowLegend(Alignment.LowerRight);
        return plot;
    }

    private static Plot IterationCdf(List<Dictionary<string, string>> iterations, List<Dictionary<string, string>> gpus)
    {
        var plot = new Plot();
        var roleOf = gpus.ToDictionary(g => g["gpu"], g => g["role"]);
        var palette = new[] { Colors.C0, Colors.C1, Colors.C2 };
        foreach (var (group, i) in iterations.GroupBy(it => roleOf[it["gpu"]]).OrderBy(g => g.Key, StringComparer.Ordinal).Select((g, i) => (g, i)))
            AddCdf(plot, group.Select(it => ResultsTable.Number(it["duration_s"]) * 1000), $"{group.Key} GPUs", palette[i % palette.Length]);
        plot.Title("Iteration time CDF");
        plot.XLabel("iteration time (ms)");
        plot.YLabel("fraction of iterations");
        plot.ShowLegend(Alignment.LowerRight);
        return plot;
    }

    public static void AddCdf(Plot plot, IEnumerable<double> values, string label, Color color, bool log = false)
    {
        var (x, y) = ResultsTable.Cdf(values);
        if (x.Length == 0) return;
        var (drawnX, drawnY) = ResultsTable.Thin(log ? x.Select(v => Math.Log10(Math.Max(v, 1e-9))).ToArray() : x, y);
        var line = plot.Add.ScatterLine(drawnX, drawnY);
        line.LegendText = label;
        line.Color = color;
        line.LineWidth = 2;
    }

    /// <summary>A log10 tick as a plain number (0.001, 1000) where that is short, else in G3 notation.</summary>
    internal static string PowerOfTen(double exponent)
    {
        var value = Math.Pow(10, exponent);
        return value is >= 1e-4 and < 1e7
            ? value.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture)
            : value.ToString("G3", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The y values were plotted as log10; label the ticks with the real values.</summary>
    public static void LogY(Plot plot) => plot.Axes.Left.TickGenerator = LogTicks();

    private static ScottPlot.TickGenerators.NumericAutomatic LogTicks() => new()
    {
        LabelFormatter = PowerOfTen,
        MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
        IntegerTicksOnly = true,
    };

    /// <summary>The x values were plotted as log10; label the ticks with the real values.</summary>
    public static void LogX(Plot plot) => plot.Axes.Bottom.TickGenerator = LogTicks();

    /// <summary>
    /// Square log-log axes around <paramref name="log10Values"/> (predicted and measured, as log10) with the dashed y = x line:
    /// the frame of every predicted-vs-measured figure. Returns the axis limits.
    /// </summary>
    public static (double Lo, double Hi) PredictedVsMeasuredFrame(Plot plot, IEnumerable<double> log10Values)
    {
        var all = log10Values.DefaultIfEmpty(0).ToArray();
        var (lo, hi) = (Math.Floor(all.Min() * 4) / 4 - 0.1, Math.Ceiling(all.Max() * 4) / 4 + 0.1);
        var line = plot.Add.Line(lo, lo, hi, hi);
        line.Color = Colors.Gray;
        line.LinePattern = LinePattern.Dashed;
        line.LegendText = "y = x";
        plot.Axes.SetLimits(lo, hi, lo, hi);
        LogX(plot);
        LogY(plot);
        return (lo, hi);
    }
}
