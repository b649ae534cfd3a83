using System.Text;
using System.Text.Json;
using RealRunner.Cli;
using RealRunner.Device;
using RealRunner.Profiling;
using RealRunner.Serving;
using Simulator.Calibration;
using Simulator.Config;
using Simulator.Metrics;
using Simulator.Output;
using Simulator.Plots;
using Simulator.Runs;

namespace RealRunner.Validation;

/// <summary>A device quantity, its simulated counterpart and the relative error.</summary>
public sealed record Compared(double Device, double Simulated, double Error)
{
    public static Compared Of(double device, double simulated) => new(device, simulated, ErrorStats.Relative(device, simulated));
}

/// <summary>Errors of the replayed batches for the model, the batch-mean model and the held-out calibration.</summary>
public sealed record ReplayErrors(ErrorStats Own, ErrorStats MeanKv, ErrorStats HeldOut)
{
    public static ReplayErrors Of(IEnumerable<PairedIteration> pairs)
    {
        var list = pairs.ToList();
        return new ReplayErrors(ErrorStats.Of(list.Select(p => (p.MeasuredS, p.PredictedS))), ErrorStats.Of(list.Select(p => (p.MeasuredS, p.PredictedMeanKvS))),
            ErrorStats.Of(list.Select(p => (p.MeasuredS, p.PredictedHeldOutS))));
    }
}

/// <summary>summary.json of a validation.</summary>
public sealed record ValidationSummary(
    DeviceInfo Device,
    string Experiment,
    string Calibration,
    string HeldOut,
    ReplayErrors ReplayAll,
    ReplayErrors ReplayDecodeOnly,
    ReplayErrors ReplayOutlierBatches,
    Compared DecodeThroughputTokensPerS,
    Compared IterationTimeP50S,
    Compared TtftMeanS,
    Compared TtftP90S,
    Compared TpotMeanS,
    Compared TpotP90S,
    Compared ForwardPasses,
    double SimulatedIterationBubbleFraction,
    IReadOnlyDictionary<string, bool> Targets,
    IReadOnlyList<string> Notes);

/// <summary>
/// <c>validate</c>: profile (or take a calibration), run the experiment on the device, replay the same
/// arrivals and policy in the calibrated simulator, replay the device's recorded batches through the
/// calibrated cost model, and compare: per-iteration error (the cost model alone), and decode
/// throughput, TTFT/TPOT and iteration time of the whole run (the model plus scheduling divergence).
/// </summary>
public static class Validator
{
    public const double MedianIterationTarget = 0.05;
    public const double ThroughputTarget = 0.05;
    public const string PairedFile = "paired_iterations.csv";
    public const string SummaryFile = "summary.json";
    public const string ReportFile = "report.md";

    public static ValidationSummary Run(DeviceSession session, ExperimentConfig experiment, string? calibrationPath, bool quick, int? kvBlocks,
        double? hostPoolGib, string target)
    {
        ValidationSummary? summary = null;
        var (prepared, plan) = DevicePlan.Prepare(experiment, session, kvBlocks, hostPoolGib);
        // A calibration profiled here lives beside the validation (a stable path the simulated run's resolved config can name).
        calibrationPath ??= Profile(session, prepared.Config, quick, $"{Path.GetFullPath(target)}-calibration");
        ResultsFolder.WriteAtomically(target, dir =>
        {
            var calibration = CalibrationTables.Load(calibrationPath);
            var uniform = calibration.Attention.Where(a => a.KvMax - a.KvMean < 0.5).ToList();
            if (uniform.Count == 0) throw new ConfigException(null, "--calibration", $"{calibrationPath} has no uniform-length attention samples to hold out the others");
            var heldOut = calibration with { Attention = uniform };

            var deviceDir = Path.Combine(dir, "device");
            var (device, _) = RunCommand.RunAndWrite(session, prepared, plan, deviceDir);

            Console.WriteLine("simulating the same experiment with the calibration");
            var config = prepared.Config with { CostModel = prepared.Config.CostModel with { Calibration = Path.GetFullPath(calibrationPath) } };
            var simulated = SingleRun.Execute(PreparedRun.From(config));
            var simulatedDir = Path.Combine(dir, "simulated");
            Directory.CreateDirectory(simulatedDir);
            ResultsWriter.Write(simulatedDir, simulated);
            FigureSet.Render(simulatedDir);
            Simulator.Reports.RunReport.Write(simulatedDir);

            var pairs = BatchReplay.Run(deviceDir, prepared.Config, calibration, heldOut);
            BatchReplay.Write(Path.Combine(dir, PairedFile), pairs);
            summary = Summarise(session.Info, prepared.Config.Name, calibrationPath, $"attention table restricted to its {uniform.Count} uniform-length samples (of {calibration.Attention.Count}): it never saw a spread batch",
                pairs, device.Summary, simulated.Summary, simulated.Notes);
            File.WriteAllText(Path.Combine(dir, SummaryFile), JsonSerializer.Serialize(summary, Common.Json) + "\n");
            ValidationFigures.Render(dir, pairs, device.Summary.DecodeThroughputTokensPerS, simulated.Summary.DecodeThroughputTokensPerS);
            File.WriteAllText(Path.Combine(dir, ReportFile), Report(summary));
        });
        return summary!;
    }

    private static string Profile(DeviceSession session, ExperimentConfig config, bool quick, string dir)
    {
        var grid = ProfileGrid.For(session.IsCuda, quick);
        Console.WriteLine($"profiling {config.Model.Name} ({(quick ? "quick" : "full")} grids) into {dir}");
        var profile = new Profiler(session, config.Model, config.Engine.BlockSizeTokens).Run(grid);
        ResultsFolder.WriteAtomically(dir, staging => ProfileCommand.Write(staging, session.Info, config.Model, grid, profile));
        return Path.Combine(dir, ProfileCommand.CalibrationFile);
    }

    public static ValidationSummary Summarise(DeviceInfo info, string name, string calibration, string heldOut, IReadOnlyList<PairedIteration> pairs,
        RunSummary device, RunSummary simulated, IReadOnlyList<string> notes)
    {
        var all = ReplayErrors.Of(pairs);
        var throughput = Compared.Of(device.DecodeThroughputTokensPerS, simulated.DecodeThroughputTokensPerS);
        return new ValidationSummary(info, name, calibration, heldOut, all,
            ReplayErrors.Of(pairs.Where(p => p.PrefillTokens == 0)), ReplayErrors.Of(pairs.Where(p => p.Outlier)),
            throughput, Compared.Of(device.IterationTimeS.P50, simulated.IterationTimeS.P50),
            Compared.Of(device.TtftS.Mean, simulated.TtftS.Mean), Compared.Of(device.TtftS.P90, simulated.TtftS.P90),
            Compared.Of(device.TpotS.Mean, simulated.TpotS.Mean), Compared.Of(device.TpotS.P90, simulated.TpotS.P90),
            Compared.Of(device.Iterations, simulated.Iterations), simulated.IterationBubbleFraction,
            new Dictionary<string, bool>
            {
                ["median_iteration_error_at_most_5_percent"] = all.Own.Median <= MedianIterationTarget,
                ["decode_throughput_error_at_most_5_percent"] = Math.Abs(throughput.Error) <= ThroughputTarget,
            },
            [.. notes, "the device's iteration-level bubble is not observable directly (its attention kernel reports one time); the simulator's is its prediction"]);
    }

    private static string P(double x) => double.IsNaN(x) ? "-" : $"{x * 100:F1}%";

    public static string Report(ValidationSummary s)
    {
        var md = new StringBuilder();
        md.AppendLine($"# Validation of `{s.Experiment}` on {s.Device.Describe()}").AppendLine();
        if (s.Device.Backend == "cpu")
            md.AppendLine("ILGPU's CPU accelerator, not a GPU: these errors say how well the calibrated model predicts this device, nothing about a GPU.").AppendLine();
        md.AppendLine($"Calibration: `{s.Calibration}`. Held out: {s.HeldOut}.").AppendLine();
        md.AppendLine("## Per iteration: the recorded batches replayed through the calibrated cost model").AppendLine();
        md.AppendLine("Absolute relative error of the iteration time (the cost model alone: same batches, no scheduling divergence).").AppendLine();
        md.AppendLine("| batches | n | model: median | P90 | held-out: median | P90 | batch-mean KV: median | P90 |").AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (label, e) in new[] { ("all", s.ReplayAll), ("decode only", s.ReplayDecodeOnly), ("one long outlier (max > 4x mean)", s.ReplayOutlierBatches) })
            md.AppendLine($"| {label} | {e.Own.Count} | {P(e.Own.Median)} | {P(e.Own.P90)} | {P(e.HeldOut.Median)} | {P(e.HeldOut.P90)} | {P(e.MeanKv.Median)} | {P(e.MeanKv.P90)} |");
        md.AppendLine();
        md.AppendLine("## Whole run: the same arrivals and policy in the calibrated simulator").AppendLine();
        md.AppendLine("| quantity | device | simulator | error |").AppendLine("|---|---:|---:|---:|");
        foreach (var (label, c) in new[]
                 {
                     ("decode throughput (tokens/s)", s.DecodeThroughputTokensPerS), ("median iteration time (s)", s.IterationTimeP50S), ("mean TTFT (s)", s.TtftMeanS),
                     ("P90 TTFT (s)", s.TtftP90S), ("mean TPOT (s)", s.TpotMeanS), ("P90 TPOT (s)", s.TpotP90S), ("forward passes", s.ForwardPasses),
                 })
            md.AppendLine($"| {label} | {c.Device:G4} | {c.Simulated:G4} | {P(c.Error)} |");
        md.AppendLine().AppendLine($"Simulated iteration-level bubble: {P(s.SimulatedIterationBubbleFraction)} of decode-GPU time.").AppendLine();
        md.AppendLine("## Targets (GPU runs; reported, not asserted)").AppendLine();
        foreach (var (k, v) in s.Targets) md.AppendLine($"- {k.Replace('_', ' ')}: {(v ? "met" : "missed")}");
        md.AppendLine().AppendLine("## Figures").AppendLine();
        foreach (var f in new[] { "predicted_vs_measured", "error_cdf", "decode_throughput" }) md.AppendLine($"![{f}](figures/{f}.png)");
        md.AppendLine().AppendLine("## Notes").AppendLine();
        foreach (var n in s.Notes) md.AppendLine($"- {n}");
        md.AppendLine().AppendLine($"Files: `{PairedFile}` (every replayed iteration), `{SummaryFile}`, `device/` (the device run), `simulated/` (the simulator's run).");
        return md.ToString();
    }
}
