using RealRunner.Cli;
using Simulator.Calibration;
using Simulator.Config;
using Simulator.Output;
using Simulator.Plots;
using Simulator.Runs;

namespace RealRunner.Tests;

/// <summary>The commands end to end on the CPU accelerator, as CI runs them.</summary>
public sealed class CommandTests
{
    public static string RepoRoot { get; } = FindRoot();

    private static string Config(string name) => Path.Combine(RepoRoot, "configs", "device", name);

    private static string FindRoot()
    {
        for (var dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
            if (File.Exists(Path.Combine(dir, "Sim.sln"))) return dir;
        throw new InvalidOperationException("Sim.sln not found above the test binaries.");
    }

    [Fact]
    public void Selfcheck_Should_Pass_On_The_Cpu_Accelerator() =>
        Assert.Equal(Common.Ok, RunnerApp.Start(["selfcheck", "--backend", "cpu"]));

    [Fact]
    public void Profile_Quick_Should_Write_A_Calibration_The_Simulator_Loads_And_Uses()
    {
        using var dir = new TempDir();
        var output = Path.Combine(dir.Path, "calibration");
        Assert.Equal(Common.Ok, RunnerApp.Start(["profile", "--quick", "--backend", "cpu", "--out", output]));

        var tables = CalibrationTables.Load(Path.Combine(output, ProfileCommand.CalibrationFile));
        Assert.Equal("cpu", tables.Config.Backend);
        Assert.Equal(["per_head", "split_kv"], tables.Attention.Select(a => a.Kernel).Distinct().Order());
        Assert.Contains(tables.Attention, a => a.KvMax > 2.5 * a.KvMean && a.Batch > 1); // the outlier spread
        Assert.Equal([1, 8, 32], tables.Dense.Select(d => d.Tokens));
        Assert.Equal(["d2d", "d2h", "h2d"], tables.Links.Select(l => l.Link).Distinct().Order());
        Assert.NotNull(tables.Config.Gpu.HbmBandwidthGbPerS);
        Assert.NotNull(tables.Config.Gpu.DenseTflops);

        // The simulator takes it as cost_model.calibration.
        var experiment = dir.File("exp.yaml", File.ReadAllText(Config("tiny-colocated.yaml"))
            .Replace("engine: { block_size_tokens: 16 }", $"engine: {{ block_size_tokens: 16 }}\ncost_model: {{ calibration: {Path.Combine(output, ProfileCommand.CalibrationFile)} }}"));
        var run = PreparedRun.From(ExperimentLoader.Load(experiment));
        Assert.Equal(tables.Config.Gpu.DenseTflops, run.Config.Node.Gpu.DenseTflops);
        Assert.True(SingleRun.Execute(run).Metrics.AllFinished);
    }

    [Fact]
    public void A_Device_Run_With_Tensor_Parallel_Instances_Should_Be_Refused_Before_Writing_Anything()
    {
        // Given tiny-gqa as two instances of 2 GPUs, and a CPU session of one accelerator
        using var dir = new TempDir();
        var output = Path.Combine(dir.Path, "device");
        var error = new StringWriter();
        var previous = Console.Error;
        Console.SetError(error);
        try
        {
            // When it is run on the device, Then it exits 2 naming the GPUs it needs, and writes no results
            Assert.Equal(Common.InvalidInput, RunnerApp.Start(["run", Config("tiny-colocated.yaml"), "--backend", "cpu", "--out", output,
                "--set", "deployment.gpus=[{role: colocated, count: 2, tp: 2}]"]));
        }
        finally
        {
            Console.SetError(previous);
        }
        Assert.Contains("tensor-parallel instances (tp 2) need 4 GPUs in the device session; it has 1", error.ToString());
        Assert.False(Directory.Exists(output));
    }

    [Theory]
    [InlineData("tiny-colocated.yaml")]
    [InlineData("tiny-disaggregated.yaml")]
    public void A_Device_Run_Should_Finish_Every_Request_And_Write_The_Simulators_Files(string config)
    {
        using var dir = new TempDir();
        var device = Path.Combine(dir.Path, "device");
        var simulated = Path.Combine(dir.Path, "simulated");
        string[] shorten = ["--set", "max_requests=6", "--set", "workload.output={ dist: uniform, min: 2, max: 6 }"];
        Assert.Equal(Common.Ok, RunnerApp.Start(["run", Config(config), "--backend", "cpu", "--out", device, .. shorten]));
        // The same experiment in the simulator, from the device run's resolved config (same KV blocks, same host pool).
        Assert.Equal(0, Simulator.Cli.CliApp.Start(["run", Path.Combine(device, ResultsWriter.ResolvedConfigFile), "--out", simulated]));

        var deviceFiles = Directory.GetFiles(device, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(device, f)).ToHashSet();
        Assert.Subset(deviceFiles, Directory.GetFiles(simulated, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(simulated, f)).ToHashSet());
        Assert.Contains(RunCommand.DeviceFile, deviceFiles);
        Assert.Contains(RunCommand.BatchesFile, deviceFiles);

        var requests = ResultsTable.ReadRows(Path.Combine(device, ResultsWriter.RequestsFile));
        Assert.Equal(6, requests.Count);
        Assert.All(requests, r => Assert.True(ResultsTable.Number(r["finish_s"]) > ResultsTable.Number(r["arrival_s"])));

        // batches.csv accounts for every iteration's tokens, and each request's tokens add up to its prompt and outputs.
        var iterations = ResultsTable.ReadRows(Path.Combine(device, ResultsWriter.IterationsFile));
        var members = ResultsTable.ReadRows(Path.Combine(device, RunCommand.BatchesFile));
        foreach (var it in iterations)
        {
            var mine = members.Where(m => m["gpu"] == it["gpu"] && m["start_s"] == it["start_s"]).ToList();
            Assert.Equal(int.Parse(it["new_tokens"]), mine.Sum(m => int.Parse(m["new_tokens"])));
            Assert.True(ResultsTable.Number(it["duration_s"]) > 0);
        }
        foreach (var r in requests)
        {
            var tokens = members.Where(m => m["request"] == r["id"]).Sum(m => int.Parse(m["new_tokens"]));
            Assert.Equal(int.Parse(r["prompt_tokens"]) + int.Parse(r["output_tokens"]) - 1, tokens);
        }
        var deviceJson = File.ReadAllText(Path.Combine(device, RunCommand.DeviceFile));
        Assert.Contains("\"backend\": \"cpu\"", deviceJson);
        if (config.Contains("disaggregated"))
        {
            Assert.NotEmpty(ResultsTable.ReadRows(Path.Combine(device, ResultsWriter.TransfersFile)));
            Assert.Contains("ran inside one device", deviceJson);
        }
    }

    [Fact]
    public void A_Device_Run_With_Swap_Preemption_Should_Swap_Out_And_Back_And_Finish_Every_Request_Without_Recomputing()
    {
        // Given 8 short requests on a GPU of 10 blocks of 16 tokens (they need up to 32), preempted by swap
        using var dir = new TempDir();
        var device = Path.Combine(dir.Path, "device");
        Assert.Equal(Common.Ok, RunnerApp.Start(["run", Config("tiny-colocated.yaml"), "--backend", "cpu", "--out", device, "--kv-blocks", "10",
            "--set", "policy.preemption=swap", "--set", "max_requests=8", "--set", "workload.prompt={ dist: uniform, min: 20, max: 40 }",
            "--set", "workload.output={ dist: uniform, min: 8, max: 24 }", "--set", "workload.arrival.rate_per_s=2000"]));

        // Then KV was swapped out (the copy reads the block ids the swap-out named, since the policy had freed them; a move without
        // them has no blocks to read and fails the run) and pulled back,
        var transfers = ResultsTable.ReadRows(Path.Combine(device, ResultsWriter.TransfersFile));
        var swapped = transfers.Where(t => t["kind"] == "swap_out").Select(t => t["request"]).ToHashSet();
        Assert.NotEmpty(swapped);
        Assert.All(swapped, id => Assert.Contains(transfers, t => t["request"] == id && t["kind"] == "host_to_gpu"));
        // and every request finished with no token computed twice (a swap keeps the KV it had)
        var requests = ResultsTable.ReadRows(Path.Combine(device, ResultsWriter.RequestsFile));
        var members = ResultsTable.ReadRows(Path.Combine(device, RunCommand.BatchesFile));
        Assert.Equal(8, requests.Count);
        foreach (var r in requests)
            Assert.Equal(int.Parse(r["prompt_tokens"]) + int.Parse(r["output_tokens"]) - 1,
                members.Where(m => m["request"] == r["id"]).Sum(m => int.Parse(m["new_tokens"])));
    }

    [Fact]
    public void Impossible_Device_Settings_Should_Exit_2_With_A_Clear_Message_And_Write_Nothing()
    {
        using var dir = new TempDir();
        var output = Path.Combine(dir.Path, "out");
        var error = new StringWriter();
        var saved = Console.Error;
        Console.SetError(error);
        try
        {
            Assert.Equal(Common.InvalidInput, RunnerApp.Start(["run", Config("tiny-colocated.yaml"), "--backend", "cpu", "--kv-blocks", "2", "--out", output]));
            Assert.Contains("needs KV for", error.ToString());
            Assert.False(Directory.Exists(output));
            if (Device.DeviceSession.Open(Device.BackendChoice.Auto) is { IsCuda: false } session)
            {
                session.Dispose();
                Assert.Equal(Common.InvalidInput, RunnerApp.Start(["selfcheck", "--backend", "cuda"]));
                Assert.Contains("no CUDA device found", error.ToString());
            }
        }
        finally
        {
            Console.SetError(saved);
        }
    }
}
