using System.Globalization;
using AngleSharp.Dom;
using Simulator.Cli;
using Simulator.Output;
using Simulator.Plots;
using Simulator.Reports;

namespace Simulator.Tests.Reports;

/// <summary>report.html of a run, checked as HTML (AngleSharp): self-contained, every figure inlined, every metric and file present.</summary>
public sealed class RunReportTests
{
    [Fact]
    public void Run_Report_Should_Be_Self_Contained_When_Written()
    {
        // Given the page of a run
        var page = ReportPages.Parse(ReportPages.Run);
        // Then it loads nothing: no scripts, no external style sheets or images, no link that leaves the folder
        Assert.Empty(page.QuerySelectorAll("script, link, iframe, object, embed, img"));
        foreach (var element in page.QuerySelectorAll("[href], [src]"))
        {
            var target = element.GetAttribute("href") ?? element.GetAttribute("src")!;
            Assert.False(target.Contains("//", StringComparison.Ordinal) || target.StartsWith('/') || target.Contains("..", StringComparison.Ordinal),
                $"'{target}' leaves the results folder");
        }
        Assert.Single(page.QuerySelectorAll("style"));
        Assert.Contains("@media print", page.QuerySelector("style")!.TextContent);
        Assert.Equal("quickstart", page.QuerySelector("h1")!.TextContent);
    }

    [Fact]
    public void Run_Report_Should_Inline_Every_Figure_With_Ids_Unique_In_The_Page()
    {
        var page = ReportPages.Parse(ReportPages.Run);
        var svgFiles = Directory.GetFiles(Path.Combine(ReportPages.Run, FigureSet.Folder), "*.svg");
        var figures = page.QuerySelectorAll("figure");

        Assert.Equal(svgFiles.Length, figures.Length);
        Assert.All(figures, f => Assert.NotNull(f.QuerySelector("svg[viewBox]")));
        // Each figure links its own SVG and PNG files, which exist
        var linked = figures.SelectMany(f => f.QuerySelectorAll("a[href]")).Select(a => a.GetAttribute("href")!).ToList();
        Assert.All(svgFiles, f => Assert.Contains($"{FigureSet.Folder}/{Path.GetFileName(f)}", linked));
        Assert.All(linked, l => Assert.True(File.Exists(Path.Combine(ReportPages.Run, l)), l));
        // Ids are unique, and every clip-path names an id of its own figure
        var ids = page.QuerySelectorAll("[id]").Select(e => e.Id!).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        foreach (var figure in figures)
            foreach (var clipped in figure.QuerySelectorAll("[clip-path]"))
            {
                var id = clipped.GetAttribute("clip-path")!.Replace("url(#", "").TrimEnd(')');
                Assert.NotNull(figure.QuerySelector($"clipPath[id='{id}']"));
            }
    }

    [Fact]
    public void Run_Report_Should_Show_Every_Metric_Of_The_Summary_With_Its_Value()
    {
        var page = ReportPages.Parse(ReportPages.Run);
        var summary = ResultsTable.ReadRows(Path.Combine(ReportPages.Run, ResultsWriter.SummaryCsvFile)).ToDictionary(r => r["metric"], r => r["value"]);
        var shown = page.QuerySelectorAll("#metrics-all tbody tr").Select(r => r.Children[0].TextContent).ToHashSet();
        var distributions = page.QuerySelectorAll("#distributions tbody tr").ToList();

        // Every summary.* scalar is in the table of every metric; every distribution is a row of the headline table
        foreach (var name in summary.Keys.Where(k => k.StartsWith("summary.", StringComparison.Ordinal)).Select(k => k["summary.".Length..]))
        {
            var stem = name[..Math.Max(0, name.LastIndexOf('.'))];
            var inDistribution = stem.Length > 0 && summary.ContainsKey($"summary.{stem}.p99");
            Assert.True(inDistribution || shown.Contains(name), $"{name} is not on the page");
        }
        Assert.Equal(["TTFT", "TPOT", "inter-token latency", "pool wait", "E2E latency", "iteration time"], distributions.Select(r => r.Children[0].TextContent));
        // TTFT's P99 as the page shows it: four significant digits of summary.csv's value, in seconds or ms
        var ttft = distributions[0];
        var p99 = double.Parse(summary["summary.ttft_s.p99"], CultureInfo.InvariantCulture);
        var scale = ttft.Children[1].TextContent == "ms" ? 1000 : 1;
        Assert.Equal((p99 * scale).ToString("G4", CultureInfo.InvariantCulture), ttft.Children[6].TextContent);
        Assert.All(distributions, r => Assert.NotEmpty(r.Children[7].TextContent)); // each has its definition
        var throughput = page.QuerySelectorAll("#headline tbody tr").First(r => r.Children[0].TextContent == "decode throughput");
        var value = double.Parse(summary["summary.decode_throughput_tokens_per_s"], CultureInfo.InvariantCulture);
        Assert.Equal($"{value.ToString("G4", CultureInfo.InvariantCulture)} tok/s", throughput.Children[1].TextContent);
    }

    [Fact]
    public void Run_Report_Should_Link_Every_File_And_Show_The_Resolved_Config()
    {
        var page = ReportPages.Parse(ReportPages.Run);
        var links = page.QuerySelectorAll("#files a").Select(a => a.GetAttribute("href")).ToHashSet();

        foreach (var file in Directory.GetFiles(ReportPages.Run).Select(Path.GetFileName).Where(n => n != HtmlReport.File && !n!.StartsWith('.')))
            Assert.Contains(file, links);
        Assert.Equal(File.ReadAllText(Path.Combine(ReportPages.Run, ResultsWriter.ResolvedConfigFile)), page.QuerySelector("#config pre")!.TextContent);
        // Short tables are shown whole: gpus.csv has one row per GPU
        var gpus = page.QuerySelector("#t-gpus-csv")!;
        Assert.Equal(File.ReadLines(Path.Combine(ReportPages.Run, ResultsWriter.GpusFile)).Count() - 1, gpus.QuerySelectorAll("tbody tr").Length);
        Assert.Null(page.QuerySelector("#t-requests-csv")); // 200 rows: linked only
    }

    [Fact]
    public void Plot_Should_Rebuild_The_Same_Report_From_The_Files()
    {
        // Given a copy of a run's folder without its page
        using var dir = new TempDir();
        var copy = Path.Combine(dir.Path, "copy");
        Copy(ReportPages.Run, copy);
        File.Delete(Path.Combine(copy, HtmlReport.File));
        // When plot redraws it
        Assert.Equal(ExitCodes.Ok, CliApp.Start(["plot", copy]));
        // Then the page is the same bytes as the one the run wrote
        Assert.Equal(File.ReadAllBytes(Path.Combine(ReportPages.Run, HtmlReport.File)), File.ReadAllBytes(Path.Combine(copy, HtmlReport.File)));
    }

    [Fact]
    public void Plot_Should_Refuse_To_Replace_A_Report_It_Did_Not_Write()
    {
        // Given a run's folder in which a user keeps a report.html of their own
        using var dir = new TempDir();
        var copy = Path.Combine(dir.Path, "copy");
        Copy(ReportPages.Run, copy);
        var page = Path.Combine(copy, HtmlReport.File);
        File.WriteAllText(page, "<html><body>my notes</body></html>");
        var figure = Path.Combine(copy, FigureSet.Folder, "latency_cdf.svg");
        File.WriteAllText(figure, "<svg/>");
        // When plot is pointed at it, it is refused and nothing is changed
        Assert.Equal(ExitCodes.InvalidInput, CliApp.Start(["plot", copy]));
        Assert.Equal("<html><body>my notes</body></html>", File.ReadAllText(page));
        Assert.Equal("<svg/>", File.ReadAllText(figure));
    }

    [Fact]
    public void A_Metric_The_Report_Does_Not_Know_Should_Appear_Under_Its_Name()
    {
        // Given a run whose summary.csv holds a metric added after the report was written, and a note with markup in it
        using var dir = new TempDir();
        var copy = Path.Combine(dir.Path, "copy");
        Copy(ReportPages.Run, copy);
        File.AppendAllText(Path.Combine(copy, ResultsWriter.SummaryCsvFile), "summary.novel_wait_s.mean,0.25\nsummary.novel_metric,1.5\n");
        File.WriteAllText(Path.Combine(copy, ResultsWriter.NotesFile), "<script>alert(1)</script> & more\n");
        // When its page is rebuilt
        RunReport.Write(copy);
        // Then the metric is listed under its name with its value, and the note is text, not markup
        var page = ReportPages.Parse(copy);
        var rows = page.QuerySelectorAll("#metrics-all tbody tr").ToDictionary(r => r.Children[0].TextContent, r => r.Children[1].TextContent);
        Assert.Equal("1.5", rows["novel_metric"]);
        Assert.Equal("0.25 s", rows["novel_wait_s.mean"]);
        Assert.Empty(page.QuerySelectorAll("script"));
        Assert.Contains("<script>alert(1)</script> & more", page.QuerySelector("#notes")!.TextContent);
    }

    [Fact]
    public void A_Sweep_Run_Should_Get_A_Page_Without_Figures_That_Says_How_To_Draw_Them()
    {
        var run = Directory.GetDirectories(Path.Combine(ReportPages.Sweep, Simulator.Sweeps.SweepManifest.RunsFolder)).Order(StringComparer.Ordinal).First();
        var page = ReportPages.Parse(run);

        Assert.Empty(page.QuerySelectorAll("figure"));
        Assert.Contains("plot", page.QuerySelector("#figures")!.TextContent);
        Assert.Contains("sweep point", page.QuerySelectorAll("dl.facts dt").Select(d => d.TextContent));
        Assert.NotEmpty(page.QuerySelectorAll("#distributions tbody tr"));
    }

    internal static void Copy(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
