namespace Simulator.Specs;

/// <summary>Unit conversions at the edges: integer nanoseconds inside, seconds and GB outside.</summary>
public static class Units
{
    public const double GiB = 1024.0 * 1024 * 1024;

    public const long NsPerSecond = 1_000_000_000;

    public const long NsPerMicrosecond = 1_000;

    /// <summary>
    /// The latest time (about 31.7 years) a workload may put a request at: as nanoseconds it leaves the 64-bit
    /// clock more than 250 years of room to finish the run. Later arrivals are refused at load.
    /// </summary>
    public const double MaxTimeS = 1e9;

    public static double Seconds(long ns) => ns / (double)NsPerSecond;

    public static long Ns(double seconds) => checked((long)Math.Round(seconds * NsPerSecond));
}
