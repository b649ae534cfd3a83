using System.CommandLine;
using System.Globalization;
using RealRunner.Device;
using RealRunner.Profiling;
using Profile = RealRunner.Profiling.Profile;
using Simulator.Calibration;
using Simulator.Config;
using Simulator.Output;
using Simulator.Specs;
using Spectre.Console;

namespace RealRunner.Cli;

/// <summary>
/// <c>profile</c>: attention, dense and copy timings on the device, written in the simulator's
/// calibration format (calibration.yaml and its tables) for <c>cost_model.calibration</c>.
/// </summary>
public static class ProfileCommand
{
    public const string CalibrationFile = "calibration.yaml";

    public static Command Build()
    {
        var backend = Common.BackendOption();
        var outDir = Common.OutOption("Output folder (default: results/calibration-<backend>-<model>)");
        var model = new Option<string?>("--model") { Description = "Model from the catalog whose shapes to profile (default: opt-6.7b on CUDA, tiny-gqa on the CPU accelerator)" };
        var quick = new Option<bool>("--quick") { Description = "Small grids (a minute or two on the CPU accelerator)" };
        var blockSize = new Option<int>("--block-size") { Description = "Tokens per KV block", DefaultValueFactory = _ => 16 };
        var command = new Command("profile", "Measure kernels and copies on the device and write a calibration for the simulator") { backend, outDir, model, quick, blockSize };
        command.SetAction(parsed => Common.Guard(() =>
            Execute(parsed.GetValue(backend), parsed.GetValue(outDir)?.FullName, parsed.GetValue(model), parsed.GetValue(quick), parsed.GetValue(blockSize))));
        return command;
    }

    public static int Execute(BackendChoice choice, string? outDir, string? modelName, bool quick, int blockSize)
    {
        using var session = Common.Open(choice);
        var catalog = Catalog.Shipped();
        var name = modelName ?? (session.IsCuda ? "opt-6.7b" : "tiny-gqa");
        var where = new SourceLocation("--model", 1, 1);
        var model = new ConfigBinder(catalog).Bind<ModelSpec>(catalog.Resolve("models", new ScalarNode(name, true, where), "--model"));
        var grid = ProfileGrid.For(session.IsCuda, quick);
        Console.WriteLine($"profiling {model.Name} shapes ({(quick ? "quick" : "full")} grids): {grid.Batches.Length} batch sizes x {grid.KvMeans.Length} KV means x {grid.Spreads.Length} spreads x 2 kernels, " +
                          $"{grid.DenseTokens.Length} dense sizes, {grid.CopyBytes.Length} copy sizes, median of {grid.Repeats}");
        var live = !Console.IsErrorRedirected;
        var profile = new Profiler(session, model, blockSize).Run(grid, live ? step => Console.Error.Write($"\r{step,-70}") : null);
        if (live) Console.Error.WriteLine();
        var target = outDir ?? Path.Combine("results", $"calibration-{session.Info.Backend}-{model.Name}");
        ResultsFolder.WriteAtomically(target, dir => Write(dir, session.Info, model, grid, profile));
        Print(profile);
        Console.WriteLine($"calibration: {Path.GetFullPath(Path.Combine(target, CalibrationFile))} (set cost_model.calibration to it)");
        return Common.Ok;
    }

    /// <summary>Writes calibration.yaml, its tables and profile.json into <paramref name="dir"/>, and checks they load.</summary>
    public static void Write(string dir, DeviceInfo info, ModelSpec model, ProfileGrid grid, Profile profile)
    {
        CsvTable.Write(Path.Combine(dir, "attention.csv"), ["kernel", "batch", "kv_mean", "kv_max", "time_us"], profile.Attention,
            a => [a.Kernel, a.Batch, a.KvMean, a.KvMax, a.TimeUs]);
        CsvTable.Write(Path.Combine(dir, "dense.csv"), ["tokens", "time_us"], profile.Dense, d => [d.Tokens, d.TimeUs]);
        CsvTable.Write(Path.Combine(dir, "links.csv"), ["link", "bytes", "time_us"], profile.Links, l => [l.Link, l.Bytes, l.TimeUs]);
        var f = profile.Fitted;
        string N(double? x) => x is { } v ? v.ToString("R", CultureInfo.InvariantCulture) : "null";
        File.WriteAllText(Path.Combine(dir, CalibrationFile), $"""
            # Written by RealRunner profile: {model.Name} shapes (one layer), {info.Describe()}.
            # Tables hold medians of repeated runs; gpu: holds the parameters fitted from them (see profile.json's notes).
            device: "{info.Name}"
            backend: {info.Backend}
            gpu:
              hbm_bandwidth_gb_per_s: {N(f.HbmBandwidthGbPerS)}
              dense_tflops: {N(f.DenseTflops)}
              per_block_bandwidth_gb_per_s: {N(f.PerBlockBandwidthGbPerS)}
              kernel_launch_us: {N(f.KernelLaunchUs)}
            attention_table: attention.csv
            dense_table: dense.csv
            links_table: links.csv
            prefill_attention: rows   # RealRunner runs a prompt's tokens as causal rows through the decode-attention kernel

            """);
        Common.WriteDevice(Path.Combine(dir, "profile.json"), info, new Dictionary<string, object>
        {
            ["model"] = model.Name,
            ["grid"] = grid,
            ["notes"] = profile.Notes,
        });
        CalibrationTables.Load(Path.Combine(dir, CalibrationFile)); // what was written must load
    }

    private static void Print(Profile profile)
    {
        var attention = new Table().Title("decode attention, one layer (us, median)").AddColumns("kernel", "batch", "kv mean", "kv max", "time");
        foreach (var a in profile.Attention.Where(a => a.Batch == profile.Attention.Max(x => x.Batch) || a.Batch == 1))
            attention.AddRow(a.Kernel, $"{a.Batch}", $"{a.KvMean:F0}", $"{a.KvMax:F0}", $"{a.TimeUs:F1}");
        AnsiConsole.Write(attention);
        var dense = new Table().Title("dense part, one layer").AddColumns("tokens", "time (us)");
        foreach (var d in profile.Dense) dense.AddRow($"{d.Tokens}", $"{d.TimeUs:F1}");
        AnsiConsole.Write(dense);
        var links = new Table().Title("copies").AddColumns("link", "bytes", "time (us)", "GB/s");
        foreach (var l in profile.Links) links.AddRow(l.Link, $"{l.Bytes:N0}", $"{l.TimeUs:F1}", $"{l.Bytes / (l.TimeUs * 1e3):F2}");
        AnsiConsole.Write(links);
        var f = profile.Fitted;
        Console.WriteLine($"fitted: HBM {f.HbmBandwidthGbPerS:F1} GB/s, dense {f.DenseTflops:F4} TFLOP/s, per-block {f.PerBlockBandwidthGbPerS:F3} GB/s, launch {f.KernelLaunchUs:F1} us");
        foreach (var note in profile.Notes) Console.WriteLine($"note: {note}");
    }
}
