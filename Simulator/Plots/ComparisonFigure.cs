using ScottPlot;
using Simulator.Studies;

namespace Simulator.Plots;

/// <summary>Grouped bars from comparison.csv: one group per workload, one bar per variant.</summary>
public static class ComparisonFigure
{
    public static IReadOnlyList<string> Render(string resultsDir)
    {
        var rows = ResultsTable.ReadRows(Path.Combine(resultsDir, ComparisonStudy.TableFile));
        var dir = Path.Combine(resultsDir, FigureSet.Folder);
        return
        [
            .. FigureFiles.Save(Bars(rows, "decode_throughput_tokens_per_s", 1, "decode throughput (tokens/s)", "Decode throughput"), dir, "throughput"),
            .. FigureFiles.Save(Bars(rows, "tpot_p99_s", 1000, "P99 TPOT (ms)", "P99 time per output token"), dir, "tpot_p99"),
            .. FigureFiles.Save(Bars(rows, "ttft_mean_s", 1, "mean TTFT (s)", "Mean time to first token"), dir, "ttft_mean"),
        ];
    }

    private static Plot Bars(List<Dictionary<string, string>> rows, string column, double scale, string yLabel, string title)
    {
        var plot = new Plot();
        var workloads = rows.Select(r => r["workload"]).Distinct().ToList();
        var variants = rows.Select(r => r["variant"]).Distinct().ToList();
        var palette = new ScottPlot.Palettes.Category10();
        var width = 0.8 / variants.Count;
        for (var v = 0; v < variants.Count; v++)
        {
            var bars = new List<ScottPlot.Bar>();
            for (var w = 0; w < workloads.Count; w++)
            {
                var row = rows.FirstOrDefault(r => r["workload"] == workloads[w] && r["variant"] == variants[v]);
                if (row is null) continue;
                bars.Add(new ScottPlot.Bar
                {
                    Position = w - 0.4 + width * (v + 0.5),
                    Value = ResultsTable.Number(row[column]) * scale,
                    Size = width * 0.9,
                    FillColor = palette.GetColor(v),
                });
            }
            plot.Add.Bars(bars);
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = variants[v], FillColor = palette.GetColor(v) });
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, workloads.Count).Select(i => (double)i).ToArray(), workloads.ToArray());
        plot.Axes.Margins(bottom: 0, top: 0.1);
        plot.Title(title);
        plot.XLabel("workload");
        plot.YLabel(yLabel);
        plot.ShowLegend(Edge.Right);
        return plot;
    }
}
