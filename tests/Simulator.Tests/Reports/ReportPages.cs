using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using Simulator.Cli;

namespace Simulator.Tests.Reports;

/// <summary>Results folders with a report.html for the report tests: a run of the quickstart and a small sweep, each written once per test process.</summary>
internal static class ReportPages
{
    private static readonly Lazy<string> RunFolder = new(() =>
    {
        var dir = Fresh("run");
        var code = CliApp.Start(["run", RepoPaths.Quickstart, "--out", dir, "--set", "workload.num_requests=200"]);
        return code == ExitCodes.Ok ? dir : throw new InvalidOperationException($"the quickstart run failed with exit code {code}");
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    private static readonly Lazy<string> SweepFolder = new(() =>
    {
        var dir = Fresh("sweep");
        var file = Path.Combine(dir + "-file.yaml");
        File.WriteAllText(file, Sweeps.SweepFixtures.Small);
        var code = CliApp.Start(["sweep", file, "--out", dir, "--jobs", "2"]);
        return code == ExitCodes.Ok ? dir : throw new InvalidOperationException($"the small sweep failed with exit code {code}");
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>A run of the quickstart with 200 requests: latency, iteration and bubble figures.</summary>
    public static string Run => RunFolder.Value;

    /// <summary><see cref="Sweeps.SweepFixtures.Small"/>: 3 policies x 2 short shares x 2 seeds, a line, a bar and a CDF figure.</summary>
    public static string Sweep => SweepFolder.Value;

    public static IDocument Parse(string folder) => new HtmlParser().ParseDocument(File.ReadAllText(Path.Combine(folder, Simulator.Reports.HtmlReport.File)));

    private static string Fresh(string name)
    {
        var root = Path.Combine(Path.GetTempPath(), "alignedserve-tests", "report-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        };
        return Path.Combine(root, name);
    }
}
