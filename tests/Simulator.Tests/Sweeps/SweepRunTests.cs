using System.Diagnostics;
using Simulator.Cli;
using Simulator.Output;
using Simulator.Sweeps;

namespace Simulator.Tests.Sweeps;

public sealed class SweepRunTests
{
    /// <summary>Every file of a sweep folder except wall-clock measurements and staging leftovers, relative path to bytes.</summary>
    private static SortedDictionary<string, byte[]> Snapshot(string dir, bool tablesOnly = false)
    {
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(dir, file);
            if (ResultsWriter.WallClockFiles.Contains(Path.GetFileName(file)) || relative is SweepManifest.File or SweepReport.SourceCopy) continue;
            if (tablesOnly && relative is not (SweepResults.PointsTable or SweepResults.RunsTable)) continue;
            files[relative] = File.ReadAllBytes(file);
        }
        return files;
    }

    private static void AssertSame(SortedDictionary<string, byte[]> expected, SortedDictionary<string, byte[]> actual)
    {
        Assert.Equal(expected.Keys, actual.Keys);
        foreach (var (name, bytes) in expected) Assert.True(bytes.AsSpan().SequenceEqual(actual[name]), $"{name} differs");
    }

    [Fact]
    public void A_Sweep_Should_Write_Tables_Figures_And_Report_Identically_Whatever_The_Parallelism()
    {
        using var dir = new TempDir();
        var plan = SweepPlan.Load(dir.File("sweep.yaml", SweepFixtures.Small));
        var one = Path.Combine(dir.Path, "one");
        var two = Path.Combine(dir.Path, "two");

        var outcome = SweepRunner.Run(plan, one, new SweepOptions(Jobs: 1));
        SweepRunner.Run(plan, two, new SweepOptions(Jobs: 2));

        Assert.Equal(new SweepOutcome(12, 12, 0, 12, 0, 0), outcome);
        AssertSame(Snapshot(one), Snapshot(two));

        var points = SweepResults.ReadPoints(one);
        Assert.Equal(6, points.Count);
        Assert.All(points, p => Assert.Equal("2", p["runs_done"]));
        Assert.Equal(["vllm", "vllm", "orca", "orca", "sarathi", "sarathi"], points.Select(p => p["policy"]));
        // The point's value is the mean of its two runs, with a t-based interval.
        var runs = Plots.ResultsTable.ReadRows(Path.Combine(one, SweepResults.RunsTable));
        var mine = runs.Where(r => r["point"] == "0").Select(r => Plots.ResultsTable.Number(r["decode_throughput_tokens_per_s"])).ToList();
        var (mean, half) = SweepResults.MeanAndCi(mine);
        Assert.Equal(mean, Plots.ResultsTable.Number(points[0]["decode_throughput_tokens_per_s"]), 9);
        Assert.Equal(half, Plots.ResultsTable.Number(points[0]["decode_throughput_tokens_per_s_ci95"]), 9);
        Assert.All(runs, r => Assert.Equal("ok", r["status"]));

        var figures = Directory.GetFiles(Path.Combine(one, "figures")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["iterations-0.6.png", "iterations-0.6.svg", "iterations-0.9.png", "iterations-0.9.svg", "throughput.png", "throughput.svg", "tpot.png", "tpot.svg"], figures);
        var report = File.ReadAllText(Path.Combine(one, SweepReport.File));
        Assert.Contains("![throughput](figures/throughput.png)", report);
        Assert.Contains("| orca |", report);          // the headline ratio over vllm
        Assert.Contains("at or below 20", report);   // the CDF marker's share
        Assert.Contains("```yaml", report);
    }

    [Fact]
    public void Shards_Then_Merge_Should_Give_The_Same_Table_As_One_Run()
    {
        using var dir = new TempDir();
        var plan = SweepPlan.Load(dir.File("sweep.yaml", SweepFixtures.Small));
        var whole = Path.Combine(dir.Path, "whole");
        SweepRunner.Run(plan, whole, new SweepOptions(Jobs: 2));

        var shardDirs = Enumerable.Range(1, 3).Select(k => Path.Combine(dir.Path, $"shard{k}")).ToList();
        for (var k = 1; k <= 3; k++)
        {
            var outcome = SweepRunner.Run(plan, shardDirs[k - 1], new SweepOptions(Jobs: 1, Shard: new Shard(k, 3)));
            Assert.Equal(4, outcome.InShard);
            Assert.Equal(8, outcome.Missing);
        }
        var merged = Path.Combine(dir.Path, "merged");
        Assert.Equal(ExitCodes.Ok, CliApp.Start(["merge", .. shardDirs, "--out", merged]));

        AssertSame(Snapshot(whole), Snapshot(merged));

        // Shards sharing one folder complete it without a merge.
        var shared = Path.Combine(dir.Path, "shared");
        for (var k = 1; k <= 2; k++) SweepRunner.Run(plan, shared, new SweepOptions(Jobs: 1, Shard: new Shard(k, 2)));
        AssertSame(Snapshot(whole), Snapshot(shared));
    }

    [Fact]
    public void Merge_Should_Refuse_Folders_Of_Different_Sweeps()
    {
        using var dir = new TempDir();
        var a = Path.Combine(dir.Path, "a");
        var b = Path.Combine(dir.Path, "b");
        SweepRunner.Run(SweepPlan.Load(dir.File("a.yaml", SweepFixtures.Base + "sweep: { seeds: 2 }\n")), a, new SweepOptions());
        SweepRunner.Run(SweepPlan.Load(dir.File("b.yaml", SweepFixtures.Base + "sweep: { seeds: 3 }\n")), b, new SweepOptions());
        Assert.Equal(ExitCodes.InvalidInput, CliApp.Start(["merge", a, b]));
    }

    [Fact]
    public void A_Failing_Run_Should_Be_Recorded_And_The_Others_Finish()
    {
        using var dir = new TempDir();
        // A 200,000-token prompt cannot fit one H100's KV for OPT-6.7B: that point fails when it runs.
        var file = dir.File("sweep.yaml", SweepFixtures.Base + """
            sweep:
              zip:
                long:
                  label: [fits, too-long]
                  workload.prompt.components.1.length: [{ dist: uniform, min: 1000, max: 3000 }, { dist: fixed, value: 200000 }]
              grid:
                policy: [vllm, orca]
            """);
        var target = Path.Combine(dir.Path, "out");

        Assert.Equal(ExitCodes.Failure, CliApp.Start(["sweep", file, "--out", target]));

        var runs = Plots.ResultsTable.ReadRows(Path.Combine(target, SweepResults.RunsTable));
        Assert.Equal(["ok", "failed", "ok", "failed"], runs.Select(r => r["status"]));
        Assert.All(runs.Where(r => r["status"] == "failed"), r => Assert.Contains("GPU holds", r["error"]));
        Assert.Contains("## Failed runs", File.ReadAllText(Path.Combine(target, SweepReport.File)));
        var points = SweepResults.ReadPoints(target);
        Assert.Equal(["0", "1", "0", "1"], points.Select(p => p["runs_failed"]));
        Assert.Equal("", points[3]["decode_throughput_tokens_per_s"]);

        // A resume does not retry recorded failures unless asked, but still reports them as failed.
        var plan = SweepPlan.Load(file);
        var resumed = SweepRunner.Run(plan, target, new SweepOptions());
        Assert.Equal((0, 2, 2, true), (resumed.Ran, resumed.AlreadyDone, resumed.FailedEarlier, resumed.AnyFailed));
        Assert.Equal(ExitCodes.Failure, CliApp.Start(["sweep", file, "--out", target]));
        Assert.Equal(2, SweepRunner.Run(plan, target, new SweepOptions(RetryFailed: true)).Failed);
    }

    [Fact]
    public void A_Sweep_Larger_Than_Its_Limit_Should_Need_Yes_And_Write_Nothing_Without_It()
    {
        using var dir = new TempDir();
        var file = dir.File("sweep.yaml", SweepFixtures.Base + "sweep:\n  seeds: 3\n  max_points: 2\n");
        var target = Path.Combine(dir.Path, "out");
        Assert.Equal(ExitCodes.InvalidInput, CliApp.Start(["sweep", file, "--out", target]));
        Assert.False(Directory.Exists(target));
        Assert.Equal(ExitCodes.Ok, CliApp.Start(["sweep", file, "--out", target, "--yes"]));
        Assert.Equal(3, Plots.ResultsTable.ReadRows(Path.Combine(target, SweepResults.RunsTable)).Count);
    }

    [Fact]
    public void Bad_Input_Should_Exit_2_And_Write_Nothing()
    {
        using var dir = new TempDir();
        var file = dir.File("sweep.yaml", SweepFixtures.Base + "sweep:\n  grid:\n    engine.block_size: [16]\n");
        var target = Path.Combine(dir.Path, "out");
        Assert.Equal(ExitCodes.InvalidInput, CliApp.Start(["sweep", file, "--out", target]));
        Assert.Equal(ExitCodes.InvalidInput, CliApp.Start(["sweep", dir.File("ok.yaml", SweepFixtures.Small), "--out", target, "--shard", "3/2"]));
        Assert.False(Directory.Exists(target));
    }

    [Fact]
    public void Plot_Should_Redraw_A_Sweep_From_Its_Files_Identically()
    {
        using var dir = new TempDir();
        var target = Path.Combine(dir.Path, "out");
        SweepRunner.Run(SweepPlan.Load(dir.File("sweep.yaml", SweepFixtures.Small)), target, new SweepOptions(Jobs: 2));
        var before = Snapshot(target);
        Directory.Delete(Path.Combine(target, "figures"), recursive: true);
        File.Delete(Path.Combine(target, SweepResults.PointsTable));

        Assert.Equal(ExitCodes.Ok, CliApp.Start(["plot", target]));

        AssertSame(before, Snapshot(target));
    }

    /// <summary>
    /// Kill a real sweep process (SIGKILL, no chance to clean up) after some runs finished, check
    /// that nothing half-written looks done, resume, and compare with an uninterrupted sweep.
    /// </summary>
    [Fact]
    public void A_Killed_Sweep_Should_Resume_To_The_Same_Results_As_An_Uninterrupted_One()
    {
        using var dir = new TempDir();
        var yaml = SweepFixtures.Small.Replace("num_requests: 120", "num_requests: 1500");
        var file = dir.File("sweep.yaml", yaml);
        var killed = Path.Combine(dir.Path, "killed");
        var runsDir = Path.Combine(killed, SweepManifest.RunsFolder);

        var exe = Path.Combine(AppContext.BaseDirectory, "Simulator.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { exe, "sweep", file, "--out", killed, "--jobs", "1" }) start.ArgumentList.Add(arg);
        using (var child = Process.Start(start)!)
        {
            child.OutputDataReceived += (_, _) => { };
            child.ErrorDataReceived += (_, _) => { };
            child.BeginOutputReadLine();
            child.BeginErrorReadLine();
            var clock = Stopwatch.StartNew();
            // Wait for two finished runs, then kill while later runs are in flight.
            while (clock.Elapsed < TimeSpan.FromMinutes(2) && !child.HasExited && Finished(runsDir) < 2) Thread.Sleep(20);
            Assert.False(child.HasExited, "the sweep finished before it could be killed; make its runs longer");
            child.Kill(entireProcessTree: true);
            child.WaitForExit();
        }
        var done = Finished(runsDir);
        Assert.InRange(done, 2, 11);
        // Everything visible under runs/ is a complete run: no folder without its summary.
        foreach (var run in Directory.GetDirectories(runsDir).Where(d => !Path.GetFileName(d).StartsWith('.')))
            Assert.True(File.Exists(Path.Combine(run, ResultsWriter.SummaryCsvFile)), $"{run} has no summary");

        var plan = SweepPlan.Load(file);
        var resumed = SweepRunner.Run(plan, killed, new SweepOptions(Jobs: 2));
        Assert.Equal(done, resumed.AlreadyDone);
        Assert.Equal(12 - done, resumed.Ran);
        Assert.Empty(Directory.GetFileSystemEntries(runsDir, ".*"));  // staging left by the killed process is gone

        var clean = Path.Combine(dir.Path, "clean");
        SweepRunner.Run(plan, clean, new SweepOptions(Jobs: 2));
        AssertSame(Snapshot(clean), Snapshot(killed));
    }

    private static int Finished(string runsDir) => !Directory.Exists(runsDir) ? 0
        : Directory.GetDirectories(runsDir).Count(d => !Path.GetFileName(d).StartsWith('.') && File.Exists(Path.Combine(d, ResultsWriter.SummaryCsvFile)));
}
