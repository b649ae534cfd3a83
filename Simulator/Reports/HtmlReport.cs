using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using Fluid;
using Simulator.Output;

namespace Simulator.Reports;

/// <summary>
/// Renders report.html from a page model with the Liquid templates of Reports/Templates/ (Fluid). The page is one
/// self-contained file: its style sheet inline, figures as inline SVG, no scripts, no requests. Templates see
/// the model's properties by name, case-insensitively (<c>{{ page.title }}</c>); every value is HTML-encoded
/// except what a template marks <c>| raw</c> (the style sheet and the figures' SVG, which the report builds).
/// </summary>
public static class HtmlReport
{
    public const string File = "report.html";

    /// <summary>The line every page carries in its head (_head.liquid), by which a later run knows the file is its own.</summary>
    public const string Generator = "<meta name=\"generator\" content=\"AlignedServe-Sim\">";

    private static readonly FluidParser Parser = new();
    private static readonly ConcurrentDictionary<string, IFluidTemplate> Parsed = new();

    // Every character outside ASCII stays as written (±, ×, μ); HTML's special characters are still encoded.
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);

    /// <summary>The page model types templates may read.</summary>
    private static readonly Type[] ModelTypes =
    [
        typeof(RunPage), typeof(SweepPage), typeof(PageHeader), typeof(Fact), typeof(MetricRow), typeof(DistributionRow),
        typeof(ReportFigure), typeof(ReportTable), typeof(TableRow), typeof(ReportFile), typeof(RatioGroup), typeof(RatioRow), typeof(SweepRunRow),
    ];

    private static readonly TemplateOptions Options = BuildOptions();

    private static TemplateOptions BuildOptions()
    {
        var options = new TemplateOptions
        {
            FileProvider = EmbeddedTemplates.Instance,
            CultureInfo = CultureInfo.InvariantCulture,
            StrictVariables = true,   // a misspelt name in a template fails the render instead of printing nothing
        };
        options.MemberAccessStrategy.IgnoreCasing = true;
        foreach (var type in ModelTypes) options.MemberAccessStrategy.Register(type);
        return options;
    }

    /// <summary>Renders <paramref name="template"/> (a file under Reports/Templates/) with the model as <c>page</c>.</summary>
    public static string Render(string template, object page)
    {
        var parsed = Parsed.GetOrAdd(template, name => Parser.TryParse(EmbeddedTemplates.Read(name), out var t, out var error)
            ? t : throw new InvalidOperationException($"report template {name}: {error}"));
        var context = new TemplateContext(Options);
        context.SetValue("page", page);
        context.SetValue("style", EmbeddedTemplates.Read("report.css"));
        context.SetValue("maxRows", ReportParts.MaxShownRows);
        return parsed.Render(context, Encoder);
    }

    /// <summary>
    /// Writes report.html into <paramref name="dir"/> (atomically); returns its path. A report.html this tool did not write
    /// (no <see cref="Generator"/> line) is refused, not replaced: <c>plot</c> may be pointed at a folder that holds one.
    /// </summary>
    public static string Write(string dir, string template, object page)
    {
        var html = Render(template, page);
        var path = CheckReplaceable(dir);
        ResultsFolder.WriteFileAtomically(path, tmp => System.IO.File.WriteAllText(tmp, html));
        return path;
    }

    /// <summary>Throws (exit 2) when <paramref name="dir"/> holds a report.html this tool did not write; returns the page's path.</summary>
    public static string CheckReplaceable(string dir)
    {
        var path = Path.Combine(dir, File);
        if (System.IO.File.Exists(path) && !System.IO.File.ReadLines(path).Take(10).Contains(Generator))
            throw new Config.ConfigException(null, "", $"refusing to replace '{path}': this tool did not write it (no generator line); nothing was changed");
        return path;
    }

    /// <summary>A number as the report shows it: four significant digits, invariant culture; "-" when not finite.</summary>
    public static string Number(double value) => double.IsFinite(value) ? value.ToString("G4", CultureInfo.InvariantCulture) : "-";

    /// <summary>A CSV cell shown as a number when it parses as one, else as written.</summary>
    public static string Cell(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && !IsInteger(text) ? Number(v) : text;

    private static bool IsInteger(string text) => text.Length > 0 && text.All(c => char.IsAsciiDigit(c) || c == '-');
}
