namespace Simulator.Randomness;

/// <summary>
/// One root seed, many named sub-streams (arrivals, prompt lengths, ...). Each stream's
/// seed depends only on the root seed and the stream's name, so adding a new stream or
/// drawing more numbers from one stream never shifts another: same config and seed,
/// byte-identical results.
/// </summary>
public sealed class RandomStreams(long rootSeed)
{
    public long RootSeed { get; } = rootSeed;

    /// <summary>A fresh generator for <paramref name="name"/>; equal names give equal sequences.</summary>
    public Random Stream(string name) => new(DeriveSeed(RootSeed, name));

    /// <summary>FNV-1a over the name, mixed with the root seed by SplitMix64's finaliser.</summary>
    internal static int DeriveSeed(long rootSeed, string name)
    {
        ulong hash = 14695981039346656037UL;
        foreach (var c in name)
        {
            hash ^= c;
            hash *= 1099511628211UL;
        }
        ulong z = hash ^ (ulong)rootSeed;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }
}
