using Policies.Core;
using Simulator.Calibration;
using Simulator.Config;
using Simulator.CostModel;
using Simulator.Output;
using Simulator.Plots;

namespace RealRunner.Validation;

/// <summary>One executed forward pass with what the cost model predicts for the same batch.</summary>
public sealed record PairedIteration(int Iteration, int Gpu, double StartS, int Seqs, int DecodeSeqs, int PrefillTokens, double KvMean, double KvMax,
    double MeasuredS, double PredictedS, double PredictedMeanKvS, double PredictedHeldOutS)
{
    /// <summary>A decode batch with one long request: max KV over 4x the mean, at least two decode requests.</summary>
    public bool Outlier => DecodeSeqs >= 2 && KvMax > 4 * KvMean;
}

/// <summary>
/// Replays a device run's recorded batches (batches.csv: the same requests, new tokens and KV
/// lengths) through the calibrated cost model and pairs each prediction with the measured time
/// (iterations.csv): the cost model's own error, free of scheduling divergence.
/// </summary>
public static class BatchReplay
{
    /// <param name="calibration">The calibration the predictions use.</param>
    /// <param name="heldOut">A calibration that never saw the batches' spread (uniform lengths only), for the held-out error.</param>
    public static List<PairedIteration> Run(string deviceDir, ExperimentConfig config, CalibrationTables calibration, CalibrationTables heldOut)
    {
        var iterations = ResultsTable.ReadRows(Path.Combine(deviceDir, ResultsWriter.IterationsFile));
        var measured = iterations.ToDictionary(r => (r["gpu"], r["start_s"]), r => ResultsTable.Number(r["duration_s"]));
        var members = ResultsTable.ReadRows(Path.Combine(deviceDir, Cli.RunCommand.BatchesFile));
        ForwardCostModel Model(CalibrationTables tables, AttentionLengths lengths) =>
            new(config.Model, tables.Config.Gpu.ApplyTo(config.Node.Gpu), config.CostModel with { AttentionLengths = lengths }, tables);
        var own = Model(calibration, AttentionLengths.Own);
        var mean = Model(calibration, AttentionLengths.Mean);
        var held = Model(heldOut, AttentionLengths.Own);
        var pairs = new List<PairedIteration>();
        var batch = new ForwardBatch();
        foreach (var pass in members.GroupBy(m => int.Parse(m["iteration"], System.Globalization.CultureInfo.InvariantCulture)).OrderBy(g => g.Key))
        {
            var first = pass.First();
            if (!measured.TryGetValue((first["gpu"], first["start_s"]), out var seconds))
                throw new InvalidDataException($"{deviceDir}: batches.csv iteration {pass.Key} (gpu {first["gpu"]}, start {first["start_s"]}) has no row in iterations.csv");
            batch.Clear();
            foreach (var m in pass)
            {
                var context = int.Parse(m["context_tokens"], System.Globalization.CultureInfo.InvariantCulture);
                var newTokens = int.Parse(m["new_tokens"], System.Globalization.CultureInfo.InvariantCulture);
                batch.Add(new BatchEntry(new Request(int.Parse(m["request"], System.Globalization.CultureInfo.InvariantCulture), context, 1), newTokens, context));
            }
            var decode = batch.Entries.Where(e => e.NewTokens == 1).Select(e => (double)e.ContextTokens).ToList();
            pairs.Add(new PairedIteration(pass.Key, int.Parse(first["gpu"], System.Globalization.CultureInfo.InvariantCulture), ResultsTable.Number(first["start_s"]),
                batch.Entries.Count, decode.Count, batch.Entries.Where(e => e.NewTokens > 1).Sum(e => e.NewTokens),
                decode.Count > 0 ? decode.Average() : 0, decode.Count > 0 ? decode.Max() : 0, seconds,
                Seconds(own.Estimate(batch)), Seconds(mean.Estimate(batch)), Seconds(held.Estimate(batch))));
        }
        return pairs;
    }

    private static double Seconds(IterationCost cost) => cost.DurationNs / 1e9;

    public static void Write(string path, IReadOnlyList<PairedIteration> pairs) =>
        CsvTable.Write(path, ["iteration", "gpu", "start_s", "seqs", "decode_seqs", "prefill_tokens", "kv_mean", "kv_max", "outlier", "measured_s",
                "predicted_s", "predicted_mean_kv_s", "predicted_held_out_s", "error", "error_mean_kv", "error_held_out"], pairs,
            p => [p.Iteration, p.Gpu, p.StartS, p.Seqs, p.DecodeSeqs, p.PrefillTokens, p.KvMean, p.KvMax, p.Outlier ? 1 : 0, p.MeasuredS, p.PredictedS,
                p.PredictedMeanKvS, p.PredictedHeldOutS, ErrorStats.Relative(p.MeasuredS, p.PredictedS), ErrorStats.Relative(p.MeasuredS, p.PredictedMeanKvS),
                ErrorStats.Relative(p.MeasuredS, p.PredictedHeldOutS)]);
}
