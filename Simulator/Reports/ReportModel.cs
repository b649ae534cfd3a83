namespace Simulator.Reports;

// The page models the templates read. Every value is already text: numbers are formatted here, in the invariant
// culture, so the page is the same bytes on every machine.

/// <summary>The top of a page: title, a one-line description, and facts shown as a definition list.</summary>
public sealed record PageHeader(string Title, string Kind, string Lead, IReadOnlyList<Fact> Facts);

public sealed record Fact(string Name, string Value);

/// <summary>One scalar metric: its summary.csv name, label, value (with unit) and definition ("" where none is known).</summary>
public sealed record MetricRow(string Name, string Label, string Value, string Definition);

/// <summary>A distribution's mean and percentiles, in the unit named.</summary>
public sealed record DistributionRow(string Name, string Label, string Unit, string Count, string Mean, string P50, string P90, string P99, string Definition);

/// <summary>A figure: its inline SVG (ids made unique in the page), links to its files, and notes.</summary>
public sealed record ReportFigure(string Id, string Title, string Caption, string Svg, string SvgFile, string PngFile, IReadOnlyList<string> Notes);

/// <summary>A table shown in full; <see cref="Numeric"/> marks the columns set right-aligned.</summary>
public sealed record ReportTable(string Id, string Title, string Caption, string File, IReadOnlyList<string> Header, IReadOnlyList<bool> Numeric,
    IReadOnlyList<TableRow> Rows);

public sealed record TableRow(IReadOnlyList<string> Cells);

/// <summary>A file of the results folder, linked relatively.</summary>
public sealed record ReportFile(string Path, string Description);

/// <summary>Ratios of each series to a figure's baseline series (geometric mean over the x values both have).</summary>
public sealed record RatioGroup(string Title, string Metric, string Series, string Baseline, string X, IReadOnlyList<RatioRow> Rows);

public sealed record RatioRow(string Series, string GeometricMean, string Min, string Max, string Count);

/// <summary>report.html of one run or study.</summary>
public sealed record RunPage(
    PageHeader Header,
    IReadOnlyList<DistributionRow> Distributions,
    IReadOnlyList<MetricRow> Headline,
    IReadOnlyList<MetricRow> AllMetrics,
    IReadOnlyList<string> Notes,
    IReadOnlyList<ReportFigure> Figures,
    string FigureNote,
    IReadOnlyList<ReportTable> Tables,
    IReadOnlyList<ReportFile> Files,
    string Config);

/// <summary>One run of a sweep, linking to its own page.</summary>
public sealed record SweepRunRow(string Run, string Point, string Parameters, string Status, string Href, string Error);

/// <summary>report.html of a sweep.</summary>
public sealed record SweepPage(
    PageHeader Header,
    ReportTable Swept,
    IReadOnlyList<RatioGroup> Ratios,
    IReadOnlyList<ReportFigure> Figures,
    ReportTable Points,
    string PointsNote,
    IReadOnlyList<SweepRunRow> Runs,
    IReadOnlyList<string> Failed,
    IReadOnlyList<ReportFile> Files,
    string ConfigNote,
    string Config,
    string Source);
