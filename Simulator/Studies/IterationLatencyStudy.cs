using Policies.Core;
using Simulator.CostModel;
using Simulator.Output;
using Simulator.Specs;

namespace Simulator.Studies;

/// <summary>One point of the iteration-latency study, times in seconds.</summary>
public sealed record IterationLatencyRow(
    string Kernel, double LongShare, int LongRequests, double IterationS, double ExactIterationS,
    double DenseS, double AttentionS, double BubbleS, double IncreaseOverNoLong);

/// <summary>Evaluates <see cref="IterationLatencyConfig"/> with the closed form and the exact attention schedule.</summary>
public static class IterationLatencyStudy
{
    public const string TableFile = "iteration_latency.csv";

    public static IReadOnlyList<IterationLatencyRow> Run(IterationLatencyConfig config)
    {
        var rows = new List<IterationLatencyRow>();
        foreach (var kernel in config.Kernels)
        {
            var closed = Model(config, kernel, AttentionMode.ClosedForm);
            var exact = Model(config, kernel, AttentionMode.Exact);
            var baseline = closed.Estimate(Batch(config, 0)).DurationNs;
            foreach (var share in config.LongShares.Order())
            {
                var longCount = (int)Math.Round(share * config.BatchSize);
                var batch = Batch(config, longCount);
                var cost = closed.Estimate(batch);
                var exactCost = exact.Estimate(batch);
                rows.Add(new IterationLatencyRow(Config.ConfigNames.EnumName(kernel), share, longCount, Units.Seconds(cost.DurationNs), Units.Seconds(exactCost.DurationNs),
                    Units.Seconds(cost.DenseNs), Units.Seconds(cost.DecodeAttentionNs), Units.Seconds(cost.BubbleNs),
                    (double)cost.DurationNs / baseline - 1));
            }
        }
        return rows;
    }

    public static void Write(string dir, IReadOnlyList<IterationLatencyRow> rows)
    {
        string[] header = ["kernel", "long_share", "long_requests", "iteration_s", "exact_iteration_s", "dense_s", "attention_s", "bubble_s", "increase_over_no_long"];
        CsvTable.Write(Path.Combine(dir, TableFile), header, rows, r =>
            [r.Kernel, r.LongShare, r.LongRequests, r.IterationS, r.ExactIterationS, r.DenseS, r.AttentionS, r.BubbleS, r.IncreaseOverNoLong]);
    }

    private static ForwardCostModel Model(IterationLatencyConfig config, AttentionKernel kernel, AttentionMode mode) =>
        new(config.Model, config.Node.Gpu, config.CostModel with { AttentionKernel = kernel, AttentionMode = mode });

    /// <summary>A decode batch of short requests with <paramref name="longCount"/> long ones placed as configured.</summary>
    private static ForwardBatch Batch(IterationLatencyConfig config, int longCount)
    {
        var n = config.BatchSize;
        var isLong = new bool[n];
        for (var k = 0; k < longCount; k++)
        {
            var index = config.LongPlacement switch
            {
                LongPlacement.First => k,
                LongPlacement.Last => n - longCount + k,
                _ => (int)((k + 0.5) * n / longCount),
            };
            isLong[index] = true;
        }
        var batch = new ForwardBatch();
        for (var i = 0; i < n; i++)
        {
            var kv = isLong[i] ? config.LongTokens : config.ShortTokens;
            batch.Add(new BatchEntry(new Request(i, Math.Max(1, kv - 1), 2), 1, kv));
        }
        return batch;
    }
}
