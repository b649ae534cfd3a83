using MathNet.Numerics.Distributions;
using Simulator.Randomness;
using Simulator.Specs;

namespace Simulator.Workload;

/// <summary>
/// Draws a synthetic workload. Arrivals, prompt lengths and output lengths each use their own
/// named random stream, so changing one distribution leaves the others' draws unchanged.
/// </summary>
public static class SyntheticGenerator
{
    public static RequestSpec[] Generate(SyntheticWorkload config, RandomStreams streams)
    {
        var arrivals = Arrivals(config.Arrival, config.NumRequests, streams);
        var prompts = streams.Stream("prompt_lengths");
        var outputs = streams.Stream("output_lengths");
        var requests = new RequestSpec[config.NumRequests];
        for (var i = 0; i < requests.Length; i++)
            requests[i] = new RequestSpec(i, arrivals[i], Sample(config.Prompt, prompts), Sample(config.Output, outputs));
        return requests;
    }

    /// <summary>Arrival times of <paramref name="count"/> requests from the "arrivals" stream.</summary>
    public static long[] Arrivals(ArrivalProcess process, int count, RandomStreams streams)
    {
        var random = streams.Stream("arrivals");
        var times = new long[count];
        var clockS = 0.0;
        for (var i = 0; i < count; i++)
        {
            clockS += NextGapS(process, random);
            if (clockS > Units.MaxTimeS)
                throw new Config.ConfigException(null, "workload.arrival",
                    $"request {i} would arrive at {clockS:G4} s, beyond the simulated clock's range ({Units.MaxTimeS:G} s): raise rate_per_s or lower num_requests");
            times[i] = Units.Ns(clockS);
        }
        return times;
    }

    private static double NextGapS(ArrivalProcess process, Random random) => process switch
    {
        PoissonArrivals p => Exponential.Sample(random, p.RatePerS),
        // Gamma with shape k = 1/cv^2 and mean 1/rate has rate parameter k * rate.
        GammaArrivals g => Gamma.Sample(random, 1 / (g.Cv * g.Cv), g.RatePerS / (g.Cv * g.Cv)),
        BurstArrivals => 0,
        _ => throw new NotSupportedException(process.GetType().Name),
    };

    public static int Sample(LengthDistribution dist, Random random) => dist switch
    {
        FixedLength f => f.Value,
        UniformLength u => random.Next(u.Min, u.Max + 1),
        LognormalLength l => Math.Clamp((int)Math.Round(LogNormal.Sample(random, Math.Log(l.Median), l.Sigma)), l.Min, l.Max),
        MixtureLength m => Sample(Pick(m, random), random),
        _ => throw new NotSupportedException(dist.GetType().Name),
    };

    private static LengthDistribution Pick(MixtureLength mixture, Random random)
    {
        var total = mixture.Components.Sum(c => c.Weight);
        var u = random.NextDouble() * total;
        foreach (var component in mixture.Components)
        {
            if (u < component.Weight) return component.Length;
            u -= component.Weight;
        }
        return mixture.Components[^1].Length;
    }
}
