namespace Simulator.CostModel;

/// <summary>
/// The attention shape and GPU rates a standing batch prices its passes with (<see cref="ForwardCostModel.StandingShapeFor"/>),
/// valid while the longest member holds at most <paramref name="LongestLimitTokens"/> tokens.
/// </summary>
/// <param name="FixedNs">The attention launch's fixed time.</param>
/// <param name="GenericLaunches">Generic launches the kernel pays instead of a fixed time of its own.</param>
/// <param name="PartitionTokens">Tokens per KV partition of a launch that splits (<see cref="PartitionedStandingSums"/> keeps its sums);
/// int.MaxValue for one block per head.</param>
public readonly record struct StandingShape(int KvHeads, long SaturatingBlocks, double BytesPerToken, double Bandwidth, double PerBlock, int Slots,
    double FixedNs, int LongestLimitTokens, int GenericLaunches, int PartitionTokens = int.MaxValue)
{
    public double Aggregate => AttentionMakespan.Aggregate(Bandwidth, PerBlock, Slots);

    /// <summary>Whether every (request, head) is one block, as the standing batch's own sums assume.</summary>
    public bool OneBlockPerHead => PartitionTokens == int.MaxValue;
}

/// <summary>
/// The launch's sums of a standing batch, pass by pass, built from its members' lengths at pass 0: one block per head
/// (<see cref="PerHeadStandingSums"/>) or KV split into partitions (<see cref="PartitionedStandingSums"/>). Passes are asked in order.
/// </summary>
public interface IStandingLaunchSums
{
    /// <summary>Block tokens capped at the k-th largest block, and that cap, in pass <paramref name="pass"/> (cap 0: fewer blocks than k).</summary>
    (long CappedBlockTokens, int CapTokens) Capped(int pass);

    /// <summary>The largest launch-order bound of pass <paramref name="pass"/>.</summary>
    double LaunchOrderNs(int pass);

    /// <summary>The wave bound of pass <paramref name="pass"/> (0 when every block gets a slot at once).</summary>
    double WavesNs(int pass);
}

/// <summary>
/// What a standing decode batch (the serving loop's lazy per-request state) tells the cost model about its current pass:
/// the sums the closed form needs, shifted by the passes run, so a pass is priced in O(1) without its requests.
/// </summary>
public interface IStandingSums
{
    /// <summary>The shape the batch's passes are priced with.</summary>
    StandingShape Shape { get; }

    /// <summary>Requests in the batch.</summary>
    int Count { get; }

    /// <summary>KV tokens of the batch in the current pass.</summary>
    long TotalTokens { get; }

    /// <summary>The longest member's KV tokens in the current pass.</summary>
    int LongestTokens { get; }

    /// <summary>Block tokens capped at the k-th largest block, and that cap, in the current pass (cap 0: fewer blocks than k).</summary>
    (long CappedBlockTokens, int CapTokens) Capped();

    /// <summary>The largest launch-order bound of the current pass.</summary>
    double LaunchOrderNs();

    /// <summary>The wave bound of the current pass.</summary>
    double WavesNs();
}

/// <summary>Prices standing decode batches: the shape one stands with, and each of its passes (what <see cref="ForwardCostModel.Estimate"/> gives for it).</summary>
public interface IStandingCosts
{
    /// <summary>The shape a standing batch of these decodes prices its passes with, or null when it cannot stand.</summary>
    StandingShape? StandingShapeFor(int requests, int longestTokens, long totalTokens);

    /// <summary>The current pass of a standing batch.</summary>
    IterationCost EstimateStanding(IStandingSums standing);
}
