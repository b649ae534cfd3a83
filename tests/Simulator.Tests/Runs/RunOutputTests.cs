using Simulator.Cli;
using Simulator.Output;

namespace Simulator.Tests.Runs;

/// <summary>Whole runs through the CLI: files written, byte-identical replays, a golden summary.</summary>
public sealed class RunOutputTests
{
    private static int Run(string outDir, params string[] extra) =>
        CliApp.Start(["run", RepoPaths.Quickstart, "--out", outDir, "--set", "workload.num_requests=200", .. extra]);

    [Fact]
    public void Quickstart_Should_Write_Csvs_Json_Resolved_Config_And_Figures()
    {
        using var dir = new TempDir();
        var outDir = Path.Combine(dir.Path, "out");

        Assert.Equal(ExitCodes.Ok, Run(outDir));

        foreach (var file in new[] { ResultsWriter.RequestsFile, ResultsWriter.IterationsFile, ResultsWriter.SummaryCsvFile,
                     ResultsWriter.SummaryJsonFile, ResultsWriter.ResolvedConfigFile, "figures/latency_cdf.png", "figures/iteration_time_cdf.svg" })
            Assert.True(new FileInfo(Path.Combine(outDir, file)).Length > 0, file);
        Assert.Equal(201, File.ReadLines(Path.Combine(outDir, ResultsWriter.RequestsFile)).Count());
        Assert.Empty(Directory.EnumerateDirectories(dir.Path, ".*"));
    }

    [Fact]
    public void Same_Config_And_Seed_Should_Give_Byte_Identical_Results()
    {
        using var dir = new TempDir();
        var a = Path.Combine(dir.Path, "a");
        var b = Path.Combine(dir.Path, "b");
        var c = Path.Combine(dir.Path, "c");

        Assert.Equal(ExitCodes.Ok, Run(a));
        Assert.Equal(ExitCodes.Ok, Run(b));
        Assert.Equal(ExitCodes.Ok, Run(c, "--seed", "7"));

        foreach (var file in Directory.EnumerateFiles(a, "*", SearchOption.AllDirectories).Where(f => !ResultsWriter.WallClockFiles.Contains(Path.GetFileName(f))))
        {
            var relative = Path.GetRelativePath(a, file);
            var x = File.ReadAllBytes(file);
            var y = File.ReadAllBytes(Path.Combine(b, relative));
            var at = x.AsSpan().CommonPrefixLength(y);
            Assert.True(x.AsSpan().SequenceEqual(y),
                $"{relative} differs at byte {at}: '{System.Text.Encoding.UTF8.GetString(x, Math.Max(0, at - 40), Math.Min(80, x.Length - Math.Max(0, at - 40)))}' vs '{System.Text.Encoding.UTF8.GetString(y, Math.Max(0, at - 40), Math.Min(80, y.Length - Math.Max(0, at - 40)))}'");
        }
        Assert.NotEqual(File.ReadAllText(Path.Combine(a, ResultsWriter.RequestsFile)), File.ReadAllText(Path.Combine(c, ResultsWriter.RequestsFile)));
    }

    /// <summary>Set UPDATE_GOLDEN=1 to rewrite the golden file after an intended change of behaviour.</summary>
    [Fact]
    public void Quickstart_Summary_Should_Match_The_Golden_File()
    {
        using var dir = new TempDir();
        var outDir = Path.Combine(dir.Path, "out");
        Assert.Equal(ExitCodes.Ok, Run(outDir));
        var actual = File.ReadAllText(Path.Combine(outDir, ResultsWriter.SummaryJsonFile));
        var golden = RepoPaths.Golden("quickstart-200.summary.json");

        if (Environment.GetEnvironmentVariable("UPDATE_GOLDEN") == "1") File.WriteAllText(golden, actual);

        Assert.True(File.Exists(golden), $"golden file missing: run with UPDATE_GOLDEN=1 to create {golden}");
        Assert.Equal(File.ReadAllText(golden), actual);
    }

    [Fact]
    public void Without_Iteration_Records_The_Summary_Should_Be_The_Same()
    {
        using var dir = new TempDir();
        var kept = Path.Combine(dir.Path, "kept");
        var aggregated = Path.Combine(dir.Path, "aggregated");
        Assert.Equal(ExitCodes.Ok, Run(kept));
        Assert.Equal(ExitCodes.Ok, Run(aggregated, "--set", "metrics.iteration_records=false"));

        var summary = File.ReadAllText(Path.Combine(kept, ResultsWriter.SummaryJsonFile));
        Assert.Equal(summary, File.ReadAllText(Path.Combine(aggregated, ResultsWriter.SummaryJsonFile)));
        Assert.Single(File.ReadAllLines(Path.Combine(aggregated, ResultsWriter.IterationsFile))); // the header only
        Assert.Contains("iteration_records is false", File.ReadAllText(Path.Combine(aggregated, ResultsWriter.NotesFile)));
        Assert.True(File.ReadAllLines(Path.Combine(kept, ResultsWriter.IterationsFile)).Length > 100);
    }
}
