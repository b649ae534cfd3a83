using ScottPlot;
using Simulator.Studies;

namespace Simulator.Plots;

/// <summary>Iteration latency against the share of long requests, one line per kernel, from iteration_latency.csv.</summary>
public static class IterationLatencyFigure
{
    public static IReadOnlyList<string> Render(string resultsDir)
    {
        var table = ResultsTable.ReadRows(Path.Combine(resultsDir, IterationLatencyStudy.TableFile));
        var plot = new Plot();
        var palette = new[] { Colors.C0, Colors.C1, Colors.C2, Colors.C3 };
        foreach (var (kernel, i) in table.Select(r => r["kernel"]).Distinct().Select((k, i) => (k, i)))
        {
            var rows = table.Where(r => r["kernel"] == kernel).ToList();
            var x = rows.Select(r => ResultsTable.Number(r["long_share"]) * 100).ToArray();
            var closed = plot.Add.Scatter(x, rows.Select(r => ResultsTable.Number(r["iteration_s"]) * 1000).ToArray());
            closed.LegendText = $"{kernel} (closed form)";
            closed.Color = palette[i % palette.Length];
            closed.LineWidth = 2;
            closed.MarkerSize = 7;
            var exact = plot.Add.Scatter(x, rows.Select(r => ResultsTable.Number(r["exact_iteration_s"]) * 1000).ToArray());
            exact.LegendText = $"{kernel} (exact schedule)";
            exact.Color = palette[i % palette.Length];
            exact.LinePattern = LinePattern.Dashed;
            exact.MarkerShape = MarkerShape.OpenCircle;
            exact.MarkerSize = 7;
        }
        plot.Title("Decode iteration latency vs share of long requests");
        plot.XLabel("long requests in the batch (%)");
        plot.YLabel("iteration latency (ms)");
        plot.ShowLegend(Alignment.UpperLeft);
        return FigureFiles.Save(plot, Path.Combine(resultsDir, FigureSet.Folder), "iteration_latency");
    }
}
