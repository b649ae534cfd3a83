using Simulator.Config;

namespace Simulator.Sweeps;

/// <summary>What a sweep figure draws.</summary>
public enum FigureKind
{
    /// <summary>Grouped bars: one group per <c>x</c> label, one bar per <c>series</c> label; 95% CI whiskers when seeds repeat.</summary>
    Bars,

    /// <summary>Lines with markers over a numeric <c>x</c> dimension, one per <c>series</c> label; CI whiskers when seeds repeat.</summary>
    Lines,

    /// <summary>Empirical CDF of a per-run quantity (<c>source</c>), one curve per <c>series</c> label, seeds pooled.</summary>
    Cdf,

    /// <summary>A grid of cells, <c>x</c> labels across and <c>series</c> labels down, each the metric (or the <c>ratio</c> of two labels' metrics) at that point.</summary>
    Heatmap,
}

/// <summary>Per-run quantities a CDF figure can draw.</summary>
public enum CdfSource
{
    /// <summary>Forward time of decode iterations (iterations with no prefill), from iterations.csv.</summary>
    DecodeIterationTime,

    /// <summary>Forward time of every iteration, from iterations.csv.</summary>
    IterationTime,

    /// <summary>Time to first token per request, from requests.csv.</summary>
    Ttft,

    /// <summary>Time per output token per request, from requests.csv.</summary>
    Tpot,

    /// <summary>Wall-clock time of each scheduling decision, from scheduling_histogram.csv (measured, not simulated: varies between runs).</summary>
    SchedulingOverhead,

    /// <summary>The engine's modelled host time per pass that the GPU waited for (cost_model.engine_cpu), from iterations.csv: deterministic.</summary>
    EngineHostTime,
}

/// <summary>
/// One figure of a sweep (the <c>figures:</c> list beside <c>sweep:</c>). <paramref name="Panels"/>
/// draws one file per label of that dimension; <paramref name="Where"/> keeps only points whose
/// dimensions have the given labels (<c>["workload=azure-conv"]</c>).
/// </summary>
/// <param name="Name">File stem under figures/ (PNG and SVG).</param>
/// <param name="Metric">A points.csv metric column, for bars and lines (e.g. decode_throughput_tokens_per_s, tpot_s.p99).</param>
/// <param name="Scale">Multiplies the plotted quantity (1000 turns seconds into milliseconds).</param>
/// <param name="Marker">A vertical reference line at this x value (after scaling), for CDFs; the report gives each curve's share below it.</param>
/// <param name="Baseline">The series label the report's ratios divide by (default: the first).</param>
/// <param name="Ratio">For a heatmap: <c>dimension=a/b</c>, each cell the metric at label a over the metric at label b of that dimension (e.g. <c>variant=aligned/vllm</c>).</param>
public sealed record FigureSpec(
    string Name,
    FigureKind Kind,
    string Series,
    string? X = null,
    string? Metric = null,
    CdfSource? Source = null,
    string? Panels = null,
    IReadOnlyList<string>? Where = null,
    [System.ComponentModel.DataAnnotations.Range(1e-12, 1e12)] double Scale = 1,
    string? Title = null,
    string? XLabel = null,
    string? YLabel = null,
    bool LogX = false,
    bool LogY = false,
    double? Marker = null,
    string? Baseline = null,
    string? Ratio = null) : IValidatedConfig
{
    public IEnumerable<(string Field, string Problem)> Validate()
    {
        if (Name.Length == 0 || Name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
            yield return ("name", $"'{Name}' is not a usable file name; use letters, digits, '-' and '_'");
        if (Ratio is not null && RatioParts() is null) yield return ("ratio", $"'{Ratio}': expected dimension=numerator/denominator labels, e.g. variant=aligned/vllm");
        if (Kind is FigureKind.Bars or FigureKind.Lines or FigureKind.Heatmap)
        {
            if (X is null) yield return ("x", $"a {ConfigNames.EnumName(Kind)} figure needs x: a swept dimension");
            if (Metric is null) yield return ("metric", $"a {ConfigNames.EnumName(Kind)} figure needs metric: a points.csv column");
        }
        else if (Source is null)
            yield return ("source", "a cdf figure needs source: decode_iteration_time, iteration_time, ttft, tpot, scheduling_overhead or engine_host_time");
        foreach (var w in Where ?? [])
            if (w.IndexOf('=') <= 0) yield return ("where", $"'{w}': expected dimension=label");
    }

    /// <summary>The (dimension, label) filters of <see cref="Where"/>.</summary>
    public IEnumerable<(string Dimension, string Label)> Filters =>
        (Where ?? []).Select(w => (w[..w.IndexOf('=')].Trim(), w[(w.IndexOf('=') + 1)..].Trim()));

    /// <summary>The dimensions this figure refers to.</summary>
    public IEnumerable<(string Field, string Dimension)> Dimensions()
    {
        yield return ("series", Series);
        if (X is not null) yield return ("x", X);
        if (Panels is not null) yield return ("panels", Panels);
        foreach (var (d, _) in Filters) yield return ("where", d);
        if (RatioParts() is { } ratio) yield return ("ratio", ratio.Dimension);
    }

    /// <summary>The parts of <see cref="Ratio"/>; null when absent or malformed.</summary>
    public (string Dimension, string Of, string Over)? RatioParts()
    {
        if (Ratio is null || Ratio.IndexOf('=') is var eq && eq <= 0) return null;
        var labels = Ratio[(eq + 1)..].Split('/');
        return labels.Length == 2 && labels.All(l => l.Trim().Length > 0) ? (Ratio[..eq].Trim(), labels[0].Trim(), labels[1].Trim()) : null;
    }
}

/// <summary>The list under <c>figures:</c>, bound on its own.</summary>
public sealed record FigureList(IReadOnlyList<FigureSpec> Figures);
