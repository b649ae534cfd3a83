using Simulator.Cli;
using Simulator.Plots;

namespace Simulator.Tests.Cli;

/// <summary>The benchmark suite runs (small sizes) and records its figures with the commit id; the figures themselves are not asserted (timing belongs in benchmarks, not tests).</summary>
public sealed class BenchTests
{
    [Fact]
    public void Bench_All_Quick_Should_Append_Every_Scenario_To_The_Csv()
    {
        using var dir = new TempDir();
        var csv = Path.Combine(dir.Path, "bench", "bench.csv");
        Assert.Equal(ExitCodes.Ok, CliApp.Start(["bench", "all", "--quick", "--csv", csv]));
        var rows = ResultsTable.ReadRows(csv);
        Assert.Equal(ExitCodes.Ok, CliApp.Start(["bench", "scale", "--quick", "--csv", csv, "--no-record"]));
        Assert.Equal(rows.Count, ResultsTable.ReadRows(csv).Count); // --no-record appends nothing

        var scenarios = rows.Select(r => r["scenario"]).Distinct().ToList();
        Assert.Contains("fleet/vllm", scenarios);
        Assert.Contains("fleet/aligned", scenarios);
        Assert.Contains("serving/quick", scenarios);
        Assert.Contains("formation/10000", scenarios);
        Assert.Contains("scale/16", scenarios);
        Assert.Contains("engine/timeout-heavy", scenarios);
        Assert.All(rows, r => Assert.Matches("^([0-9a-f]{12}(\\+dirty)?|unknown)$", r["commit"]));
        Assert.All(rows, r => Assert.True(double.IsFinite(ResultsTable.Number(r["value"]))));
        Assert.Single(rows.Select(r => r["utc"]).Distinct());
    }
}
