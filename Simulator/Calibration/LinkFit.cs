namespace Simulator.Calibration;

/// <summary>A copy's time as latency + bytes / bandwidth, fitted by least squares to measured copies.</summary>
public sealed record LinkFit(double GbPerS, double LatencyUs)
{
    /// <summary>The fit over the samples of the given link kinds, or null with fewer than two sizes (or a non-positive slope).</summary>
    public static LinkFit? Of(IReadOnlyList<LinkSample> samples, params string[] kinds)
    {
        var points = samples.Where(s => kinds.Contains(s.Link)).Select(s => ((double)s.Bytes, s.TimeUs)).ToList();
        if (points.Select(p => p.Item1).Distinct().Count() < 2) return null;
        var meanX = points.Average(p => p.Item1);
        var meanY = points.Average(p => p.TimeUs);
        var slope = points.Sum(p => (p.Item1 - meanX) * (p.TimeUs - meanY)) / points.Sum(p => (p.Item1 - meanX) * (p.Item1 - meanX));
        if (slope <= 0) return null;
        var intercept = Math.Max(0, meanY - slope * meanX);
        return new LinkFit(1 / slope / 1000, intercept); // bytes per us -> GB/s
    }
}
