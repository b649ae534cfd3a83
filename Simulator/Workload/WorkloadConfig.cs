using System.ComponentModel.DataAnnotations;
using Simulator.Config;

namespace Simulator.Workload;

/// <summary>Where requests come from (<c>kind:</c> selects).</summary>
[ConfigUnion("kind")]
[ConfigVariant("synthetic", typeof(SyntheticWorkload))]
[ConfigVariant("trace", typeof(TraceWorkload))]
public abstract record WorkloadConfig;

/// <summary>Requests drawn from an arrival process and prompt/output length distributions.</summary>
public sealed record SyntheticWorkload(
    [Range(1, 100_000_000)] int NumRequests,
    ArrivalProcess Arrival,
    LengthDistribution Prompt,
    LengthDistribution Output) : WorkloadConfig;

/// <summary>Inter-arrival times (<c>process:</c> selects).</summary>
[ConfigUnion("process")]
[ConfigVariant("poisson", typeof(PoissonArrivals))]
[ConfigVariant("gamma", typeof(GammaArrivals))]
[ConfigVariant("burst", typeof(BurstArrivals))]
public abstract record ArrivalProcess;

public sealed record PoissonArrivals([Range(1e-9, 1e9)] double RatePerS) : ArrivalProcess;

/// <summary>Gamma inter-arrivals with mean 1/rate and coefficient of variation <paramref name="Cv"/> (burstier when above 1).</summary>
public sealed record GammaArrivals([Range(1e-9, 1e9)] double RatePerS, [Range(0.01, 100.0)] double Cv) : ArrivalProcess;

/// <summary>Every request arrives at t = 0 (offline throughput runs).</summary>
public sealed record BurstArrivals : ArrivalProcess;

/// <summary>A distribution of token counts (<c>dist:</c> selects); samples are whole tokens, at least 1.</summary>
[ConfigUnion("dist")]
[ConfigVariant("fixed", typeof(FixedLength))]
[ConfigVariant("uniform", typeof(UniformLength))]
[ConfigVariant("lognormal", typeof(LognormalLength))]
[ConfigVariant("mixture", typeof(MixtureLength))]
public abstract record LengthDistribution;

public sealed record FixedLength([Range(1, 10_000_000)] int Value) : LengthDistribution;

/// <summary>Uniform over the integers min..max inclusive.</summary>
public sealed record UniformLength([Range(1, 10_000_000)] int Min, [Range(1, 10_000_000)] int Max)
    : LengthDistribution, IValidatedConfig
{
    public IEnumerable<(string Field, string Problem)> Validate()
    {
        if (Max < Min) yield return ("max", $"max ({Max}) must be at least min ({Min})");
    }
}

/// <summary>Lognormal with the given median and log-space sigma, rounded and clipped to [min, max].</summary>
public sealed record LognormalLength(
    [Range(1.0, 1e7)] double Median,
    [Range(0.0, 10.0)] double Sigma,
    [Range(1, 10_000_000)] int Min = 1,
    [Range(1, 10_000_000)] int Max = 65536) : LengthDistribution, IValidatedConfig
{
    public IEnumerable<(string Field, string Problem)> Validate()
    {
        if (Max < Min) yield return ("max", $"max ({Max}) must be at least min ({Min})");
    }
}

/// <summary>A weighted mix, e.g. short and long requests; weights are normalised.</summary>
public sealed record MixtureLength(IReadOnlyList<MixtureComponent> Components) : LengthDistribution, IValidatedConfig
{
    public IEnumerable<(string Field, string Problem)> Validate()
    {
        if (Components.Count == 0) yield return ("components", "expected at least one component");
    }
}

public sealed record MixtureComponent([Range(0.0, 1e9, MinimumIsExclusive = true)] double Weight, LengthDistribution Length);
