using System.Globalization;
using Simulator.Plots;
using Simulator.Reports;
using Simulator.Sweeps;

namespace Simulator.Tests.Reports;

/// <summary>report.html of a sweep: its points with confidence intervals and ratios to the baseline, every figure, every run linked.</summary>
public sealed class SweepReportHtmlTests
{
    [Fact]
    public void Sweep_Report_Should_Show_Points_With_Confidence_Intervals_And_Ratios_To_The_Baseline()
    {
        // Given the small sweep (seeds repeat; the throughput figure's baseline is vllm)
        var page = ReportPages.Parse(ReportPages.Sweep);
        var points = SweepResults.ReadPoints(ReportPages.Sweep);
        var table = page.QuerySelector("table#points")!;
        var header = table.QuerySelectorAll("thead th").Select(h => h.TextContent).ToList();
        var rows = table.QuerySelectorAll("tbody tr").Select(r => r.Children.Select(c => c.TextContent).ToList()).ToList();

        // Then each point is a row, its throughput the mean ± the 95% half-width of points.csv
        Assert.Equal(points.Count, rows.Count);
        var metric = "decode_throughput_tokens_per_s";
        var column = header.IndexOf(metric);
        var ratioColumn = header.IndexOf($"{metric} / policy=vllm");
        Assert.True(column > 0 && ratioColumn > 0, string.Join(" | ", header));
        for (var i = 0; i < points.Count; i++)
        {
            var p = points[i];
            string G4(string text) => double.Parse(text, CultureInfo.InvariantCulture).ToString("G4", CultureInfo.InvariantCulture);
            Assert.Equal($"{G4(p[metric])} ± {G4(p[metric + SweepResults.CiSuffix])}", rows[i][column]);
            // and its ratio to the vllm point of the same short share
            var baseline = points.Single(q => q["policy"] == "vllm" && q["short_share"] == p["short_share"]);
            var ratio = double.Parse(p[metric], CultureInfo.InvariantCulture) / double.Parse(baseline[metric], CultureInfo.InvariantCulture);
            Assert.Equal(ratio.ToString("0.000", CultureInfo.InvariantCulture) + "×", rows[i][ratioColumn]);
        }
        // The ratios section has orca and sarathi over vllm, as report.md does
        var ratios = page.QuerySelectorAll("#ratios table.ratios").First().QuerySelectorAll("tbody tr").Select(r => r.Children[0].TextContent);
        Assert.Equal(["orca", "sarathi"], ratios);
    }

    [Fact]
    public void Sweep_Report_Should_Inline_Every_Figure_And_Link_Every_Run_Page()
    {
        var page = ReportPages.Parse(ReportPages.Sweep);
        var svgFiles = Directory.GetFiles(Path.Combine(ReportPages.Sweep, FigureSet.Folder), "*.svg");

        Assert.Equal(svgFiles.Length, page.QuerySelectorAll("figure svg").Length);
        var ids = page.QuerySelectorAll("[id]").Select(e => e.Id!).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        var manifest = SweepManifest.Read(ReportPages.Sweep);
        var links = page.QuerySelectorAll("#run-list a").Select(a => a.GetAttribute("href")!).ToList();
        Assert.Equal(manifest.Runs.Count, links.Count);
        Assert.All(links, l => Assert.True(File.Exists(Path.Combine(ReportPages.Sweep, l)), l));
        Assert.Empty(page.QuerySelectorAll("script, link, img"));
        Assert.Contains("sweep:", page.QuerySelectorAll("#config pre").Last().TextContent); // the sweep file as given
    }

    [Fact]
    public void Reproduce_Should_Write_A_Page_For_Every_Study_Sweep_And_Run()
    {
        // Given the paper configs run as reproduce runs them (shortened)
        var root = Sweeps.PaperResults.Folder;
        foreach (var folder in Directory.GetDirectories(root))
        {
            // Then every study and sweep folder has its page, and so has every run that finished
            Assert.True(File.Exists(Path.Combine(folder, HtmlReport.File)), folder);
            var runs = Path.Combine(folder, SweepManifest.RunsFolder);
            if (!Directory.Exists(runs)) continue;
            foreach (var run in Directory.GetDirectories(runs).Where(r => File.Exists(Path.Combine(r, Simulator.Output.ResultsWriter.SummaryCsvFile))))
                Assert.True(File.Exists(Path.Combine(run, HtmlReport.File)), run);
        }
    }
}
