using ScottPlot;
using Simulator.Plots;

namespace RealRunner.Validation;

/// <summary>The validation's figures: predicted vs measured iteration time, the error CDFs, and decode throughput device vs simulator.</summary>
public static class ValidationFigures
{
    public static IReadOnlyList<string> Render(string dir, IReadOnlyList<PairedIteration> pairs, double deviceThroughput, double simulatedThroughput)
    {
        var figures = Path.Combine(dir, FigureSet.Folder);
        return [.. FigureFiles.Save(Scatter(pairs), figures, "predicted_vs_measured"), .. FigureFiles.Save(ErrorCdf(pairs), figures, "error_cdf"),
            .. FigureFiles.Save(Throughput(deviceThroughput, simulatedThroughput), figures, "decode_throughput")];
    }

    /// <summary>Log-log, so millisecond decode passes and long prefills share one figure.</summary>
    private static Plot Scatter(IReadOnlyList<PairedIteration> pairs)
    {
        var plot = new Plot();
        static double L(double seconds) => Math.Log10(Math.Max(seconds * 1000, 1e-6));
        var measured = pairs.Select(p => L(p.MeasuredS)).ToArray();
        void Series(Func<PairedIteration, double> predicted, string label, Color color)
        {
            var s = plot.Add.ScatterPoints(measured, pairs.Select(p => L(predicted(p))).ToArray());
            s.LegendText = label;
            s.Color = color;
            s.MarkerSize = 5;
        }
        Series(p => p.PredictedMeanKvS, "batch-mean KV (mean_kv)", Colors.C1.WithAlpha(0.6));
        Series(p => p.PredictedS, "each request's own KV (this model)", Colors.C0.WithAlpha(0.8));
        FigureSet.PredictedVsMeasuredFrame(plot, measured.Concat(pairs.Select(p => L(p.PredictedS))).Concat(pairs.Select(p => L(p.PredictedMeanKvS))));
        plot.Title("Replayed batches: predicted vs measured iteration time");
        plot.XLabel("measured iteration time (ms, log scale)");
        plot.YLabel("predicted iteration time (ms, log scale)");
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    private static Plot ErrorCdf(IReadOnlyList<PairedIteration> pairs)
    {
        var plot = new Plot();
        double Abs(double measured, double predicted) => Math.Abs(predicted - measured) / measured * 100;
        FigureSet.AddCdf(plot, pairs.Select(p => Abs(p.MeasuredS, p.PredictedS)), "own KV lengths", Colors.C0);
        FigureSet.AddCdf(plot, pairs.Select(p => Abs(p.MeasuredS, p.PredictedHeldOutS)), "own KV, held-out calibration (uniform only)", Colors.C2);
        FigureSet.AddCdf(plot, pairs.Select(p => Abs(p.MeasuredS, p.PredictedMeanKvS)), "batch-mean KV (mean_kv)", Colors.C1);
        plot.Axes.SetLimitsY(0, 1.02);
        plot.Title("Iteration-time prediction error (replayed batches)");
        plot.XLabel("absolute relative error (%)");
        plot.YLabel("fraction of iterations");
        plot.ShowLegend(Alignment.LowerRight);
        return plot;
    }

    private static Plot Throughput(double device, double simulated)
    {
        var plot = new Plot();
        plot.Add.Bars(new List<Bar>
        {
            new() { Position = 0, Value = device, FillColor = Colors.C0, Size = 0.6 },
            new() { Position = 1, Value = simulated, FillColor = Colors.C1, Size = 0.6 },
        });
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([0.0, 1.0], ["device (measured)", "simulator (calibrated)"]);
        plot.Axes.Margins(bottom: 0, top: 0.15);
        plot.Title("Decode throughput: device vs simulator");
        plot.YLabel("decode throughput (tokens/s)");
        return plot;
    }
}
