using System.CommandLine;
using RealRunner.Device;
using RealRunner.Serving;
using Simulator.Config;
using Simulator.Output;
using Simulator.Plots;
using Simulator.Runs;
using Simulator.Specs;

namespace RealRunner.Cli;

/// <summary>
/// <c>run experiment.yaml</c>: the experiment's workload, deployment and policy executed on the
/// device: every forward pass runs the model's kernels, every KV move is a real copy; results in
/// the simulator's format plus device.json and batches.csv.
/// </summary>
public static class RunCommand
{
    public const string DeviceFile = "device.json";
    public const string BatchesFile = "batches.csv";

    public static Command Build()
    {
        var file = new Argument<FileInfo>("experiment") { Description = "Experiment YAML file (the simulator's format)" };
        var backend = Common.BackendOption();
        var outDir = Common.OutOption("Results folder (default: results/<name>-device)");
        var kvBlocks = new Option<int?>("--kv-blocks") { Description = "KV blocks per GPU (default: what fits the device, at most the experiment's plan)" };
        var hostPool = new Option<double?>("--host-pool-gib") { Description = "Page-locked host KV pool per node (default: the smaller of the experiment's and a quarter of RAM)" };
        var sets = new Option<string[]>("--set") { Description = "Override a config field: path=value (repeatable)", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("run", "Run an experiment's workload and policy on the device") { file, backend, outDir, kvBlocks, hostPool, sets };
        command.SetAction(parsed => Common.Guard(() => Execute(parsed.GetValue(file)!.FullName, parsed.GetValue(backend), parsed.GetValue(outDir)?.FullName,
            parsed.GetValue(kvBlocks), parsed.GetValue(hostPool), parsed.GetValue(sets) ?? [])));
        return command;
    }

    public static int Execute(string file, BackendChoice choice, string? outDir, int? kvBlocks, double? hostPoolGib, IReadOnlyList<string> sets)
    {
        using var session = Common.Open(choice);
        var (prepared, plan) = DevicePlan.Prepare(ExperimentLoader.Load(file, sets), session, kvBlocks, hostPoolGib);
        var target = outDir ?? Path.Combine("results", prepared.Config.Name + "-device");
        var (result, emulated) = RunAndWrite(session, prepared, plan, target);
        Console.WriteLine($"{result.Metrics.IterationCount} forward passes, makespan {result.Summary.MakespanS:F3} s of device time, " +
                          $"decode throughput {result.Summary.DecodeThroughputTokensPerS:F1} tok/s, median iteration {result.Summary.IterationTimeS.P50 * 1000:F3} ms; wall {result.WallSeconds:F1} s");
        if (emulated > 0) Console.WriteLine($"notice: {emulated} prefetch copies were emulated inside one device");
        Console.WriteLine($"results: {Path.GetFullPath(target)}");
        return Common.Ok;
    }

    /// <summary>Runs a fitted experiment on the device and writes its results folder (atomically); returns the result and the emulated prefetch copies.</summary>
    public static (RunResult Result, int EmulatedCopies) RunAndWrite(DeviceSession session, PreparedRun prepared, DevicePlan plan, string target)
    {
        var config = prepared.Config;
        Console.WriteLine($"{config.Name}: {config.Policy.Name}, {config.Model.Name}, {plan.Gpus} logical GPU(s) on {session.Accelerators.Count} device(s), " +
                          $"{prepared.Requests.Length} requests, {prepared.Memory.KvBlocks} KV blocks per GPU, host pool {plan.HostPoolBytes / Units.GiB:F2} GiB per node");
        DeviceBackend? backend = null;
        try
        {
            var result = SingleRun.Execute(prepared, backend: (sim, _) => backend = new DeviceBackend(session, prepared, sim, plan.Gpus, plan.HostPoolBytes));
            ResultsFolder.WriteAtomically(target, dir =>
            {
                ResultsWriter.Write(dir, result);
                backend!.WriteBatches(Path.Combine(dir, BatchesFile));
                Common.WriteDevice(Path.Combine(dir, DeviceFile), session.Info, new Dictionary<string, object>
                {
                    ["mode"] = "the simulator's serving logic drives the device; each forward pass and KV copy runs on the device, the clock advances by their measured times",
                    ["kv_blocks_per_gpu"] = prepared.Memory.KvBlocks,
                    ["kv_blocks_why"] = plan.BlocksReason,
                    ["host_pool_bytes_per_node"] = plan.HostPoolBytes,
                    ["logical_gpus"] = plan.Gpus,
                    ["gpus_per_device"] = (plan.Gpus + session.Accelerators.Count - 1) / session.Accelerators.Count,
                    ["prefetch_copies_emulated"] = backend.EmulatedPeerCopies,
                    ["prefetch_copies_peer"] = backend.RealPeerCopies,
                    ["emulation"] = backend.EmulatedPeerCopies > 0
                        ? "the prefetch path's GPU-to-GPU hop ran inside one device (staging buffer, second stream): there was no second device"
                        : "none",
                    ["simulated_seconds"] = result.Summary.MakespanS,
                    ["wall_seconds"] = result.WallSeconds,
                });
                FigureSet.Render(dir);
                Simulator.Reports.RunReport.Write(dir);
            });
            return (result, backend!.EmulatedPeerCopies);
        }
        finally
        {
            backend?.Dispose();
        }
    }
}
