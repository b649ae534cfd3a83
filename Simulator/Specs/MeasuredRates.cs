using System.ComponentModel.DataAnnotations;

namespace Simulator.Specs;

/// <summary>A measured throughput at a number of tokens (the M dimension of a GEMM, or a prompt's length).</summary>
public sealed record RatePoint([Range(1, 1 << 30)] int Tokens, [Range(1e-6, 1_000_000.0)] double Tflops);

/// <summary>Throughput between measured points: piecewise linear in log(tokens), flat beyond the ends.</summary>
public static class RateCurve
{
    public static double TflopsAt(IReadOnlyList<RatePoint> points, double tokens)
    {
        if (tokens <= points[0].Tokens) return points[0].Tflops;
        for (var i = 1; i < points.Count; i++)
        {
            if (tokens > points[i].Tokens) continue;
            var (a, b) = (points[i - 1], points[i]);
            var t = Math.Log(tokens / a.Tokens) / Math.Log((double)b.Tokens / a.Tokens);
            return a.Tflops + t * (b.Tflops - a.Tflops);
        }
        return points[^1].Tflops;
    }

    /// <summary>Problems with a curve: empty, or tokens not strictly increasing.</summary>
    public static string? Problem(IReadOnlyList<RatePoint> points)
    {
        if (points.Count == 0) return "needs at least one { tokens, tflops } point";
        for (var i = 1; i < points.Count; i++)
            if (points[i].Tokens <= points[i - 1].Tokens) return $"tokens must increase: {points[i - 1].Tokens} then {points[i].Tokens}";
        return null;
    }
}

/// <summary>
/// The dense layers' GEMMs on one GPU, as measured (DESIGN section 5: achievable, not datasheet, rates). A GEMM of
/// M tokens takes its fixed time plus the longer of streaming its weights and computing at the measured rate for M.
/// </summary>
/// <param name="StreamGbPerS">Weight streaming rate of a small-M GEMM (GEMV), launch excluded.</param>
/// <param name="LaunchUs">Fixed time of one GEMM (launch, ramp-up, tail).</param>
/// <param name="TflopsByTokens">Achieved FLOP rate by M, for the compute-bound side.</param>
public sealed record GemmRates(
    [Range(1e-3, 1_000_000.0)] double StreamGbPerS,
    [Range(0.0, 1_000_000.0)] double LaunchUs,
    RatePoint[] TflopsByTokens) : Config.IValidatedConfig
{
    public IEnumerable<(string Field, string Problem)> Validate()
    {
        if (RateCurve.Problem(TflopsByTokens) is { } problem) yield return ("tflops_by_tokens", problem);
    }

    // Value equality over the curve's points (a record compares arrays by reference): a resolved config loads back equal.
    public bool Equals(GemmRates? other) => other is not null && StreamGbPerS == other.StreamGbPerS && LaunchUs == other.LaunchUs
                                           && TflopsByTokens.SequenceEqual(other.TflopsByTokens);

    public override int GetHashCode() => HashCode.Combine(StreamGbPerS, LaunchUs, TflopsByTokens.Length);
}

/// <summary>
/// Prefill (causal) attention on one GPU, as measured: the causal square of a chunk runs at a rate that grows with the
/// chunk's length (more thread blocks, longer rows), its queries against earlier context at a steadier one.
/// </summary>
/// <param name="CausalTflopsByTokens">Causal self-attention of a chunk of n tokens with no earlier context, by n.</param>
/// <param name="ContextTflops">A chunk's queries against earlier KV (chunked prefill's context part).</param>
public sealed record PrefillAttentionRates(
    RatePoint[] CausalTflopsByTokens,
    [Range(1e-6, 1_000_000.0)] double ContextTflops) : Config.IValidatedConfig
{
    public IEnumerable<(string Field, string Problem)> Validate()
    {
        if (RateCurve.Problem(CausalTflopsByTokens) is { } problem) yield return ("causal_tflops_by_tokens", problem);
    }

    public bool Equals(PrefillAttentionRates? other) => other is not null && ContextTflops == other.ContextTflops
                                                       && CausalTflopsByTokens.SequenceEqual(other.CausalTflopsByTokens);

    public override int GetHashCode() => HashCode.Combine(ContextTflops, CausalTflopsByTokens.Length);
}
