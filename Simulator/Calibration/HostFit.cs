namespace Simulator.Calibration;

/// <summary>The engine's host time per pass as fixed + per request × requests, least squares over measured batch sizes.</summary>
public sealed record HostFit(double FixedUs, double PerSequenceUs)
{
    /// <summary>The fit over (batch size, µs) points, or null with fewer than two batch sizes; negative parts are clamped at 0.</summary>
    public static HostFit? Of(IReadOnlyList<(double Batch, double Us)> points)
    {
        if (points.Select(p => p.Batch).Distinct().Count() < 2) return null;
        var meanX = points.Average(p => p.Batch);
        var meanY = points.Average(p => p.Us);
        var slope = Math.Max(0, points.Sum(p => (p.Batch - meanX) * (p.Us - meanY)) / points.Sum(p => (p.Batch - meanX) * (p.Batch - meanX)));
        return new HostFit(Math.Max(0, meanY - slope * meanX), slope);
    }
}
