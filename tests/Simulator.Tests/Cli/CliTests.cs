using Simulator.Cli;
using Simulator.Config;
using Simulator.Sweeps;
using Simulator.Workload;

namespace Simulator.Tests.Cli;

public sealed class CliTests
{
    private const string Experiment = RepoPaths.MinimalExperiment;

    private static (int Code, string Out) RunIn(TempDir dir, string yaml, params string[] extra)
    {
        var file = dir.File("exp.yaml", yaml);
        var outDir = Path.Combine(dir.Path, "out");
        return (CliApp.Start(["run", file, "--out", outDir, .. extra]), outDir);
    }

    [Theory]
    [InlineData("num_requests: 10", "num_requests: -3")]
    [InlineData("model: opt-6.7b", "model: gpt-5")]
    [InlineData("policy: vllm", "policy: fifo")]
    [InlineData("kind: synthetic", "kind: synthetc")]
    [InlineData("value: 100", "value: 100\n    extra: 1")]
    public void Bad_Config_Should_Exit_2_And_Write_Nothing(string from, string to)
    {
        using var dir = new TempDir();
        var (code, outDir) = RunIn(dir, Experiment.Replace(from, to));
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.False(Directory.Exists(outDir));
        Assert.Single(Directory.EnumerateFileSystemEntries(dir.Path));
    }

    [Fact]
    public void Request_That_Cannot_Fit_On_The_Gpu_Should_Exit_2()
    {
        using var dir = new TempDir();
        var (code, outDir) = RunIn(dir, Experiment.Replace("value: 100", "value: 5000000"));
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void Model_Too_Large_For_The_Gpu_Should_Exit_2()
    {
        using var dir = new TempDir();
        var (code, _) = RunIn(dir, Experiment.Replace("model: opt-6.7b", "model: llama-2-70b"));
        Assert.Equal(ExitCodes.InvalidInput, code);
    }

    [Theory]
    [InlineData("--seed", "abc")]
    [InlineData("--sed", "1")]
    public void Bad_Command_Line_Should_Exit_2(string option, string value)
    {
        using var dir = new TempDir();
        var (code, outDir) = RunIn(dir, Experiment, option, value);
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.False(Directory.Exists(outDir));
    }

    [Theory]
    [InlineData("merge", "\0")]
    [InlineData("plot", "out\0")]
    [InlineData("run", "exp\0.yaml")]
    public void Nul_Character_In_An_Argument_Should_Exit_2_When_Parsing(string command, string argument)
    {
        // Found by the fuzz suite: path arguments threw ArgumentException out of the parser.
        Assert.Equal(ExitCodes.InvalidInput, CliApp.Start([command, argument]));
    }

    [Fact]
    public void Missing_File_Should_Exit_2()
    {
        Assert.Equal(ExitCodes.InvalidInput, CliApp.Start(["check", "/nonexistent/experiment.yaml"]));
    }

    [Fact]
    public void List_And_Help_Should_Succeed()
    {
        Assert.Equal(ExitCodes.Ok, CliApp.Start(["list", "--catalog", RepoPaths.Configs]));
        Assert.Equal(ExitCodes.Ok, CliApp.Start(["--help"]));
        Assert.Equal(ExitCodes.Ok, CliApp.Start(["run", "--help"]));
    }

    /// <summary>Every shipped experiment config validates and runs (shortened to a few requests).</summary>
    [Fact]
    public void Every_Shipped_Experiment_Should_Check_And_Run()
    {
        var experiments = Directory.EnumerateFiles(RepoPaths.Configs, "*.yaml", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}hardware{Path.DirectorySeparatorChar}")
                        && !f.Contains($"{Path.DirectorySeparatorChar}models{Path.DirectorySeparatorChar}"))
            .ToList();
        Assert.NotEmpty(experiments);
        using var dir = new TempDir();
        foreach (var file in experiments)
        {
            var outDir = Path.Combine(dir.Path, Path.GetFileNameWithoutExtension(file));
            if (SweepPlan.IsSweep(file))
            {
                // Every point and figure binds; the shortened sweep ran, and a run failed only where its trace is absent.
                var plan = SweepPlan.Load(file);
                var results = Path.Combine(Simulator.Tests.Sweeps.PaperResults.Folder, plan.Name);
                Assert.True(Directory.Exists(results), $"{file} is not a paper config; PaperResults runs configs/paper only");
                var runs = SweepResults.ReadRuns(results, SweepManifest.Read(results));
                Assert.Equal(plan.Runs.Count, runs.Count);
                Assert.DoesNotContain(runs, r => r.State == RunState.Missing);
                Assert.All(runs.Where(r => r.State == RunState.Failed), r => Assert.Contains("trace file", r.Error));
                if (runs.All(r => r.State == RunState.Failed)) continue;
                var figures = Directory.GetFiles(Path.Combine(results, "figures"), "*.png").Select(Path.GetFileName).ToList();
                Assert.All(plan.Figures, f => Assert.Contains(figures, name => name!.StartsWith(f.Name, StringComparison.Ordinal)));
                Console.WriteLine($"{file}: {runs.Count(r => r.State == RunState.Done)} runs done, {runs.Count(r => r.State == RunState.Failed)} without their trace");
                continue;
            }
            var study = ExperimentLoader.StudyOf(file)?.Value;
            if (study is null && ExperimentLoader.Load(file).Workload is TraceWorkload { Path: var trace } && !File.Exists(trace))
            {
                Console.WriteLine($"skipped {file}: its trace {trace} is absent");
                continue;
            }
            Assert.Equal(ExitCodes.Ok, CliApp.Start(["check", file]));
            string[] shorten = study is null ? ["--set", "max_requests=25"] : [];
            Assert.Equal(ExitCodes.Ok, CliApp.Start(["run", file, "--out", outDir, .. shorten]));
        }
    }
}
