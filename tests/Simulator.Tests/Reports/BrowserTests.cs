using PuppeteerSharp;
using PuppeteerSharp.Media;
using SkiaSharp;

namespace Simulator.Tests.Reports;

/// <summary>
/// report.html rendered by a real headless browser (Debian's chromium-headless-shell or chromium, driven over the DevTools
/// protocol by PuppeteerSharp): it loads with no console error and no request beyond the page itself, every figure is
/// laid out at a readable size on a laptop-width window, a full-page screenshot has ink where each figure is, and the page
/// prints to PDF. scripts/install-browser.sh installs the browser; .ci/run sets REQUIRE_BROWSER=1 so that a missing browser
/// fails this test instead of skipping it.
/// </summary>
public sealed class BrowserTests
{
    private static readonly string[] Candidates = ["/usr/bin/chromium-headless-shell", "/usr/bin/chromium", "/usr/bin/chromium-browser"];

    /// <summary>A laptop's window: 1366 x 768 CSS pixels at a device pixel ratio of 1.</summary>
    private const int LaptopWidth = 1366;

    [Fact]
    public async Task Run_And_Sweep_Reports_Should_Render_With_Every_Figure_Visible_And_No_Console_Error()
    {
        var executable = Environment.GetEnvironmentVariable("REPORT_BROWSER") is { Length: > 0 } chosen ? chosen : Candidates.FirstOrDefault(File.Exists);
        if (executable is null || !File.Exists(executable))
        {
            var why = $"no headless browser (looked for {string.Join(", ", Candidates)}; REPORT_BROWSER names another)";
            Assert.False(Environment.GetEnvironmentVariable("REQUIRE_BROWSER") == "1", $"REQUIRE_BROWSER=1 but {why}");
            Console.WriteLine($"skipped: {why}");
            return;
        }
        await using var browser = await Puppeteer.LaunchAsync(new LaunchOptions
        {
            ExecutablePath = executable,
            HeadlessMode = HeadlessMode.Shell,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            DefaultViewport = new ViewPortOptions { Width = LaptopWidth, Height = 768, DeviceScaleFactor = 1 },
        });
        foreach (var folder in new[] { ReportPages.Run, ReportPages.Sweep })
            await CheckPage(browser, folder);
    }

    private static async Task CheckPage(IBrowser browser, string folder)
    {
        var path = Path.Combine(folder, Simulator.Reports.HtmlReport.File);
        var url = new Uri(path).AbsoluteUri;
        await using var page = await browser.NewPageAsync();
        var problems = new List<string>();
        page.Console += (_, e) =>
        {
            if (e.Message.Type is ConsoleType.Error or ConsoleType.Warning or ConsoleType.Assert) problems.Add($"console {e.Message.Type}: {e.Message.Text}");
        };
        page.PageError += (_, e) => problems.Add($"page error: {e.Message}");
        page.RequestFailed += (_, e) => problems.Add($"request failed: {e.Request.Url}");
        page.Request += (_, e) =>
        {
            if (e.Request.Url != url) problems.Add($"request beyond the page: {e.Request.Url}");
        };

        // When the page is opened at a laptop's width
        var response = await page.GoToAsync(url, new NavigationOptions { WaitUntil = [WaitUntilNavigation.Load] });
        Assert.True(response is null || response.Ok, $"{url} did not load");

        // Then nothing complained and nothing else was fetched
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        // The page does not scroll sideways: tables scroll in their own boxes
        var scrollWidth = await page.EvaluateExpressionAsync<int>("document.documentElement.scrollWidth");
        Assert.True(scrollWidth <= LaptopWidth, $"{path}: the page is {scrollWidth} px wide at a {LaptopWidth} px window");

        // Every figure is laid out at a readable size, and the screenshot has ink where each one is
        var boxes = await page.EvaluateExpressionAsync<double[][]>(
            "Array.from(document.querySelectorAll('figure svg')).map(s => { const r = s.getBoundingClientRect(); return [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height]; })");
        var figureCount = Directory.GetFiles(Path.Combine(folder, Plots.FigureSet.Folder), "*.svg").Length;
        Assert.Equal(figureCount, boxes.Length);
        var png = await page.ScreenshotDataAsync(new ScreenshotOptions { FullPage = true, Type = ScreenshotType.Png });
        using var shot = SKBitmap.Decode(png);
        foreach (var (box, i) in boxes.Select((b, i) => (b, i)))
        {
            Assert.True(box[2] >= 500 && box[3] >= 300, $"{path}: figure {i + 1} is laid out at {box[2]:F0} x {box[3]:F0} px");
            var (ink, colours) = Ink(shot, box);
            // Axes, ticks, labels and data draw a few percent of a figure's pixels; a blank or unrendered figure draws none,
            // a figure drawn as a solid block draws nearly all.
            Assert.True(ink is > 0.01 and < 0.6, $"{path}: figure {i + 1} has {ink:P1} of its pixels inked");
            Assert.True(colours >= 1, $"{path}: figure {i + 1} shows no colour besides grey: its data series are missing");
        }
        // A control for the measure: the header's blank right margin has no ink.
        var (blankInk, _) = Ink(shot, [LaptopWidth - 120, 4, 100, 20]);
        Assert.True(blankInk < 0.001, $"{path}: the page's top-right margin is inked ({blankInk:P1})");

        // And it prints: the print style sheet applies and the PDF has pages
        await page.EmulateMediaTypeAsync(MediaType.Print);
        var pdf = await page.PdfDataAsync(new PdfOptions { Format = PaperFormat.A4, PrintBackground = false });
        Assert.True(pdf.Length > 10_000 && System.Text.Encoding.ASCII.GetString(pdf, 0, 5) == "%PDF-", $"{path}: no PDF");
        var navHidden = await page.EvaluateExpressionAsync<string>("getComputedStyle(document.querySelector('nav.toc')).display");
        Assert.Equal("none", navHidden);
    }

    /// <summary>The share of non-white pixels in a box, and how many distinct saturated hues (data series; axes and text are grey) it has.</summary>
    private static (double Ink, int Colours) Ink(SKBitmap shot, double[] box)
    {
        int x0 = (int)Math.Ceiling(box[0]), y0 = (int)Math.Ceiling(box[1]);
        int x1 = Math.Min(shot.Width, (int)Math.Floor(box[0] + box[2])), y1 = Math.Min(shot.Height, (int)Math.Floor(box[1] + box[3]));
        long inked = 0, total = 0;
        var hues = new HashSet<int>();
        for (var y = y0 + 2; y < y1 - 2; y++)
            for (var x = x0 + 2; x < x1 - 2; x++)
            {
                var c = shot.GetPixel(x, y);
                total++;
                if (c.Red < 235 || c.Green < 235 || c.Blue < 235) inked++;
                c.ToHsv(out var h, out var s, out var v);
                if (s > 50 && v > 30) hues.Add((int)(h / 30));
            }
        return (total == 0 ? 0 : inked / (double)total, hues.Count);
    }
}
