namespace RealRunner.Validation;

/// <summary>Absolute relative errors |predicted - measured| / measured of a set of pairs: their median, P90 and mean (R-7 percentiles).</summary>
public sealed record ErrorStats(int Count, double Median, double P90, double Mean, double MeanSigned)
{
    public static ErrorStats Of(IEnumerable<(double Measured, double Predicted)> pairs)
    {
        var signed = pairs.Where(p => p.Measured > 0 && double.IsFinite(p.Predicted)).Select(p => (p.Predicted - p.Measured) / p.Measured).ToArray();
        if (signed.Length == 0) return new ErrorStats(0, double.NaN, double.NaN, double.NaN, double.NaN);
        var abs = signed.Select(Math.Abs).Order().ToArray();
        return new ErrorStats(abs.Length, Quantile(abs, 0.5), Quantile(abs, 0.9), abs.Average(), signed.Average());
    }

    /// <summary>R-7 quantile of sorted values (numpy's default).</summary>
    public static double Quantile(double[] sorted, double q)
    {
        if (sorted.Length == 1) return sorted[0];
        var h = (sorted.Length - 1) * q;
        var lo = (int)Math.Floor(h);
        var hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }

    /// <summary>Relative error of one quantity: (predicted - measured) / measured.</summary>
    public static double Relative(double measured, double predicted) => measured == 0 ? double.NaN : (predicted - measured) / measured;
}
