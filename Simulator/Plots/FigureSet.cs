using ScottPlot;
using Simulator.Output;

namespace Simulator.Plots;

/// <summary>
/// The figures of a single run, drawn from its CSVs (so re-plotting needs no re-run):
/// latency CDFs (TTFT, TPOT, E2E) and the iteration-time CDF, as PNG and SVG under figures/.
/// </summary>
public static class FigureSet
{
    public const string Folder = "figures";
    public static IReadOnlyList<string> Render(string resultsDir)
    {
        var outDir = Path.Combine(resultsDir, Folder);
        Directory.CreateDirectory(outDir);
        var requests = ResultsTable.ReadColumns(Path.Combine(resultsDir, ResultsWriter.RequestsFile), "ttft_s", "tpot_s", "e2e_s");
        var iterations = ResultsTable.ReadColumns(Path.Combine(resultsDir, ResultsWriter.IterationsFile), "duration_s");
        return
        [
            .. FigureFiles.Save(LatencyCdf(requests), outDir, "latency_cdf"),
            .. FigureFiles.Save(IterationCdf(iterations["duration_s"]), outDir, "iteration_time_cdf"),
        ];
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

    private static Plot IterationCdf(double[] durationsS)
    {
        var plot = new Plot();
        AddCdf(plot, durationsS.Select(s => s * 1000), "forward pass", Colors.C0);
        plot.Title("Iteration time CDF");
        plot.XLabel("iteration time (ms)");
        plot.YLabel("fraction of iterations");
        plot.ShowLegend(Alignment.LowerRight);
        return plot;
    }

    private static void AddCdf(Plot plot, IEnumerable<double> values, string label, Color color, bool log = false)
    {
        var (x, y) = ResultsTable.Cdf(values);
        if (x.Length == 0) return;
        var line = plot.Add.ScatterLine(log ? x.Select(v => Math.Log10(Math.Max(v, 1e-9))).ToArray() : x, y);
        line.LegendText = label;
        line.Color = color;
        line.LineWidth = 2;
    }

    /// <summary>The x values were plotted as log10; label the ticks with the real values.</summary>
    private static void LogX(Plot plot)
    {
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            LabelFormatter = v => Math.Pow(10, v).ToString("G3", System.Globalization.CultureInfo.InvariantCulture),
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
        };
    }
}
