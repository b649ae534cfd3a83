using System.Text.Json;
using RealRunner.Cli;
using RealRunner.Validation;
using Simulator.Output;
using Simulator.Plots;

namespace RealRunner.Tests;

public sealed class ValidationTests
{
    [Fact]
    public void Error_Stats_Should_Give_The_Known_Errors_Of_Synthetic_Pairs()
    {
        // Absolute relative errors 0.1, 0.2, 0 and 0.5; signed +0.1, -0.2, 0, +0.5.
        var stats = ErrorStats.Of([(1.0, 1.1), (1.0, 0.8), (2.0, 2.0), (4.0, 6.0)]);
        Assert.Equal(4, stats.Count);
        Assert.Equal(0.15, stats.Median, 12);
        Assert.Equal(0.2 + 0.7 * 0.3, stats.P90, 12); // h = 3 x 0.9 = 2.7 between 0.2 and 0.5
        Assert.Equal(0.2, stats.Mean, 12);
        Assert.Equal(0.1, stats.MeanSigned, 12);
        Assert.Equal(0, ErrorStats.Of([(0.0, 1.0)]).Count); // a zero measurement has no relative error
        Assert.Equal(-0.25, ErrorStats.Relative(4, 3));
    }

    [Fact]
    public void Outlier_Batches_Should_Be_Those_With_One_Long_Request()
    {
        PairedIteration P(int decode, double mean, double max) => new(0, 0, 0, decode, decode, 0, mean, max, 1, 1, 1, 1);
        Assert.True(P(8, 100, 800).Outlier);
        Assert.False(P(8, 100, 300).Outlier);
        Assert.False(P(1, 100, 800).Outlier);
    }

    /// <summary>The whole pipeline on the CPU accelerator, as CI runs it: quick profile, device run, simulator replay, batch replay, report.</summary>
    [Fact]
    public void Validate_Should_Write_The_Paired_Iterations_The_Errors_And_The_Figures()
    {
        using var dir = new TempDir();
        var output = Path.Combine(dir.Path, "validation");
        var config = Path.Combine(CommandTests.RepoRoot, "configs", "device", "tiny-colocated.yaml");
        Assert.Equal(Common.Ok, RunnerApp.Start(["validate", config, "--backend", "cpu", "--quick", "--out", output,
            "--set", "max_requests=6", "--set", "workload.output={ dist: uniform, min: 2, max: 6 }"]));

        Assert.True(File.Exists(Path.Combine($"{output}-calibration", ProfileCommand.CalibrationFile)));
        foreach (var f in new[] { Validator.PairedFile, Validator.SummaryFile, Validator.ReportFile, "figures/predicted_vs_measured.png", "figures/error_cdf.png",
                     "figures/decode_throughput.svg", "device/batches.csv", "simulated/summary.json" })
            Assert.True(File.Exists(Path.Combine(output, f)), f);

        var paired = ResultsTable.ReadRows(Path.Combine(output, Validator.PairedFile));
        var deviceIterations = ResultsTable.ReadRows(Path.Combine(output, "device", ResultsWriter.IterationsFile));
        Assert.Equal(deviceIterations.Count, paired.Count);
        Assert.All(paired, p =>
        {
            Assert.True(ResultsTable.Number(p["measured_s"]) > 0);
            Assert.True(ResultsTable.Number(p["predicted_s"]) > 0);
        });
        // The simulator replayed the device run's own resolved config: same memory, same requests.
        var simulatedConfig = File.ReadAllText(Path.Combine(output, "simulated", ResultsWriter.ResolvedConfigFile));
        Assert.Contains("kv_blocks:", simulatedConfig);
        Assert.Contains("calibration.yaml", simulatedConfig);

        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, Validator.SummaryFile)));
        var all = summary.RootElement.GetProperty("replay_all").GetProperty("own");
        Assert.Equal(paired.Count, all.GetProperty("count").GetInt32());
        Assert.True(all.GetProperty("median").GetDouble() >= 0);
        Assert.Equal("cpu", summary.RootElement.GetProperty("device").GetProperty("backend").GetString());
        Assert.Contains("CPU accelerator, not a GPU", File.ReadAllText(Path.Combine(output, Validator.ReportFile)));
    }
}
