namespace Simulator.Calibration;

/// <summary>One layer's attention of a prefill chunk of <paramref name="ChunkTokens"/> new tokens after <paramref name="ContextTokens"/> computed ones (one request).</summary>
public readonly record struct PrefillSample(int ChunkTokens, int ContextTokens, double TimeUs);

/// <summary>
/// Measured prefill-attention samples as correction factors of the closed form: at each sample, measured over the closed
/// form's time; a chunk's factor is interpolated (inverse distance, four nearest) over log chunk tokens and log(1 + context
/// tokens). Outside the samples' range the closed form stands, and the misses are counted for the run's report.
/// </summary>
public sealed class PrefillTable
{
    private const int Neighbours = 4;
    private readonly (double Chunk, double Context, double Factor)[] points;
    private readonly double loChunk, hiChunk, hiContext;
    private long hits, misses;

    /// <param name="closedFormNs">The closed form's time of one layer's prefill attention for (chunk tokens, context tokens).</param>
    public PrefillTable(IReadOnlyList<PrefillSample> samples, Func<int, int, double> closedFormNs)
    {
        points = samples.Select(s => (Math.Log(s.ChunkTokens), Math.Log(1.0 + s.ContextTokens), s.TimeUs * 1000 / closedFormNs(s.ChunkTokens, s.ContextTokens)))
            .ToArray();
        loChunk = points.Min(p => p.Chunk);
        hiChunk = points.Max(p => p.Chunk);
        hiContext = points.Max(p => p.Context);
    }

    /// <summary>The correction factor of a chunk, or null outside the samples' range.</summary>
    public double? Factor(int chunkTokens, int contextTokens)
    {
        double x = Math.Log(chunkTokens), y = Math.Log(1.0 + contextTokens);
        const double slack = 1e-9;
        if (x < loChunk - slack || x > hiChunk + slack || y > hiContext + slack)
        {
            misses++;
            return null;
        }
        hits++;
        double sx = Math.Max(hiChunk - loChunk, 0.1), sy = Math.Max(hiContext, 0.1);
        var nearest = points.Select(p => (Distance: Square((x - p.Chunk) / sx) + Square((y - p.Context) / sy), p.Factor))
            .OrderBy(p => p.Distance).Take(Neighbours).ToList();
        if (nearest[0].Distance < 1e-12) return nearest[0].Factor;
        return nearest.Sum(p => p.Factor / p.Distance) / nearest.Sum(p => 1 / p.Distance);
    }

    private static double Square(double v) => v * v;

    public string? Report() => misses == 0 ? null
        : $"{misses} of {hits + misses} prefill attention evaluations fell outside its table (chunks {Math.Exp(loChunk):0}-{Math.Exp(hiChunk):0} tokens, context up to {Math.Exp(hiContext) - 1:0} tokens)";
}
