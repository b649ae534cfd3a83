using System.CommandLine;
using RealRunner.Validation;
using Simulator.Config;

namespace RealRunner.Cli;

/// <summary><c>validate experiment.yaml</c>: device run vs calibrated simulator, per iteration and for the whole run.</summary>
public static class ValidateCommand
{
    public static Command Build()
    {
        var file = new Argument<FileInfo>("experiment") { Description = "Experiment YAML file (the simulator's format)" };
        var backend = Common.BackendOption();
        var outDir = Common.OutOption("Output folder (default: results/validation-<backend>-<name>; a calibration profiled here goes to <folder>-calibration)");
        var calibration = new Option<FileInfo?>("--calibration") { Description = "A calibration.yaml from profile (default: profile first)" };
        var quick = new Option<bool>("--quick") { Description = "Profile with the small grids" };
        var kvBlocks = new Option<int?>("--kv-blocks") { Description = "KV blocks per GPU (default: what fits the device)" };
        var hostPool = new Option<double?>("--host-pool-gib") { Description = "Page-locked host KV pool per node" };
        var sets = new Option<string[]>("--set") { Description = "Override a config field: path=value (repeatable)", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("validate", "Run on the device, replay in the calibrated simulator, and report the prediction error")
        {
            file, backend, outDir, calibration, quick, kvBlocks, hostPool, sets,
        };
        command.SetAction(parsed => Common.Guard(() =>
        {
            using var session = Common.Open(parsed.GetValue(backend));
            var experiment = ExperimentLoader.Load(parsed.GetValue(file)!.FullName, parsed.GetValue(sets) ?? []);
            var target = parsed.GetValue(outDir)?.FullName ?? Path.Combine("results", $"validation-{session.Info.Backend}-{experiment.Name}");
            var s = Validator.Run(session, experiment, parsed.GetValue(calibration)?.FullName, parsed.GetValue(quick), parsed.GetValue(kvBlocks),
                parsed.GetValue(hostPool), target);
            Console.WriteLine($"per iteration (replayed batches): median error {s.ReplayAll.Own.Median:P1}, P90 {s.ReplayAll.Own.P90:P1} " +
                              $"(held-out {s.ReplayAll.HeldOut.Median:P1}; batch-mean KV {s.ReplayAll.MeanKv.Median:P1}); " +
                              $"outlier batches: {s.ReplayOutlierBatches.Own.Median:P1} vs batch-mean {s.ReplayOutlierBatches.MeanKv.Median:P1} ({s.ReplayOutlierBatches.Own.Count})");
            Console.WriteLine($"whole run: decode throughput {s.DecodeThroughputTokensPerS.Device:F1} measured vs {s.DecodeThroughputTokensPerS.Simulated:F1} simulated ({s.DecodeThroughputTokensPerS.Error:P1})");
            Console.WriteLine($"report: {Path.GetFullPath(Path.Combine(target, Validator.ReportFile))}");
            return Common.Ok;
        }));
        return command;
    }
}
