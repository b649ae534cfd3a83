using ScottPlot;

namespace Simulator.Plots;

/// <summary>The deployment figures of a run: GPU-time breakdown, KV transfer throughput, host pool occupancy.</summary>
public static class RunFigures
{
    /// <summary>Per decode-capable GPU, its time split into useful compute and the three bubble levels.</summary>
    public static Plot BubbleBreakdown(List<Dictionary<string, string>> gpus, double makespanS)
    {
        var plot = new Plot();
        var decoders = gpus.Where(g => g["role"] != "prefill").ToList();
        (string Label, Color Color)[] parts =
        [
            ("compute", Colors.C0), ("iteration-level bubble", Colors.C1), ("batch-level bubble (waiting for KV)", Colors.C2),
            ("request-level bubble (nothing to run)", Colors.Gray),
        ];
        var bars = new List<ScottPlot.Bar>();
        for (var i = 0; i < decoders.Count; i++)
        {
            var g = decoders[i];
            double busy = ResultsTable.Number(g["busy_s"]), bubble = ResultsTable.Number(g["bubble_s"]), kv = ResultsTable.Number(g["waiting_for_kv_s"]);
            double[] values = makespanS > 0
                ? [(busy - bubble) / makespanS, bubble / makespanS, kv / makespanS, Math.Max(0, makespanS - busy - kv) / makespanS]
                : [0, 0, 0, 0];
            var bottom = 0.0;
            for (var p = 0; p < parts.Length; p++)
            {
                bars.Add(new ScottPlot.Bar { Position = i, ValueBase = bottom, Value = bottom + values[p], FillColor = parts[p].Color });
                bottom += values[p];
            }
        }
        plot.Add.Bars(bars);
        foreach (var (label, color) in parts) plot.Legend.ManualItems.Add(new LegendItem { LabelText = label, FillColor = color });
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, decoders.Count).Select(i => (double)i).ToArray(), decoders.Select(g => $"gpu{g["gpu"]}").ToArray());
        plot.Axes.SetLimitsY(0, 1.25);
        plot.Title("Decode-GPU time: compute and bubbles");
        plot.XLabel("GPU (colocated or decode role)");
        plot.YLabel("fraction of the makespan");
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    /// <summary>KV transfer throughput over time per kind, each transfer's bytes spread over its duration.</summary>
    public static Plot TransferThroughput(List<Dictionary<string, string>> transfers)
    {
        var plot = new Plot();
        var end = transfers.Max(t => ResultsTable.Number(t["end_s"]));
        const int bins = 200;
        var width = Math.Max(end / bins, 1e-9);
        var palette = new[] { Colors.C0, Colors.C1, Colors.C2 };
        foreach (var (kind, k) in transfers.GroupBy(t => t["kind"]).OrderBy(g => g.Key, StringComparer.Ordinal).Select((g, k) => (g, k)))
        {
            var bytes = new double[bins];
            foreach (var t in kind)
            {
                double start = ResultsTable.Number(t["start_s"]), stop = ResultsTable.Number(t["end_s"]), size = ResultsTable.Number(t["bytes"]);
                var duration = Math.Max(stop - start, 1e-12);
                for (var b = (int)Math.Min(bins - 1, start / width); b <= Math.Min(bins - 1, (int)(stop / width)); b++)
                {
                    var overlap = Math.Min(stop, (b + 1) * width) - Math.Max(start, b * width);
                    if (overlap > 0) bytes[b] += size * overlap / duration;
                }
            }
            var line = plot.Add.ScatterLine(Enumerable.Range(0, bins).Select(b => (b + 0.5) * width).ToArray(), bytes.Select(x => x / width / 1e9).ToArray());
            line.LegendText = kind.Key.Replace('_', ' ');
            line.Color = palette[k % palette.Length];
            line.LineWidth = 1.5f;
        }
        plot.Title("KV transfer throughput");
        plot.XLabel("time (s)");
        plot.YLabel("throughput (GB/s)");
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    /// <summary>Host KV pool occupancy per node as a step function.</summary>
    public static Plot PoolOccupancy(List<Dictionary<string, string>> pool)
    {
        var plot = new Plot();
        foreach (var node in pool.GroupBy(p => p["node"]))
        {
            var times = node.Select(p => ResultsTable.Number(p["time_s"])).ToArray();
            var gib = node.Select(p => ResultsTable.Number(p["used_bytes"]) / (1024.0 * 1024 * 1024)).ToArray();
            var line = plot.Add.Scatter(times, gib);
            line.ConnectStyle = ConnectStyle.StepHorizontal;
            line.MarkerSize = 0;
            line.LegendText = $"node {node.Key}";
        }
        plot.Title("Host KV pool occupancy");
        plot.XLabel("time (s)");
        plot.YLabel("KV in host memory (GiB)");
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }
}
