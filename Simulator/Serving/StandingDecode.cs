using Policies.Core;
using Policies.Memory;
using Simulator.CostModel;
using Simulator.Metrics;


namespace Simulator.Serving;

/// <summary>
/// Lazy per-request state for a GPU whose policy repeats the same decode batch
/// (<see cref="IRepeatableSchedule.RepeatablePasses"/>): pass j of the standing batch gives every member
/// KV length (length at entry + j), so the requests are not advanced, the batch is not re-formed and
/// the cost model's sums are not recomputed per pass. A pass costs O(1): the total and the longest shift by
/// known amounts, and the launch's sums are kept by the cost model (<see cref="PerHeadStandingSums"/>,
/// <see cref="PartitionedStandingSums"/>), built once for the batch's first pass priced; members crossing into a
/// new KV block are grouped by the pass residue (mod the block size) at which they cross, so a pass
/// reserves the blocks of exactly the members that cross in it (a block size's share of the batch), as the
/// policy's own decision would, so every table holds what it would pass by pass (with block ids, the members
/// crossing in one pass may take theirs in another order).
/// <para>The batch ends (<see cref="Exit"/>, O(batch): each request gets its passes) after the passes the policy
/// vouched for, before a pass whose block crossings the free blocks cannot cover (the policy would preempt), and
/// when anything external reaches the GPU that the policy does not take beside it; requests that join it restart it
/// (<see cref="Rejoin"/>); the pass in which a member finishes is its last, handed back as the policy's batch
/// (<see cref="Form"/>) for the serving loop to complete. Its passes are
/// those the policy would have formed, and their costs those <see cref="ForwardCostModel.Estimate"/> gives,
/// from the same integer sums through the same formulas (<see cref="AttentionMakespan"/>); tested byte for byte.
/// One instance per GPU, reused: starting a batch allocates nothing once its arrays have grown. The serving loop
/// reaches it only through <see cref="StandingBatches"/>.</para>
/// </summary>
public sealed class StandingDecode(int blockSize, IStandingCosts? costs = null) : IStandingSums
{
    /// <summary>Standing batches shorter than this are not worth starting (starting one walks the batch once).</summary>
    public const int MinimumStandingPasses = 2;

    private StandingShape shape;

    private Request[] members = [];
    private int[] context0 = [];
    /// <summary>Passes each member ran before the batch last went on with joiners (<see cref="Rejoin"/>): given with the rest at its end.</summary>
    private int[] owed = [];
    /// <summary>When the members cross into new KV blocks.</summary>
    private readonly BlockCrossings crossings = new(blockSize);

    private int horizon;
    private long total0;
    private int longest0;

    public bool Active { get; private set; }

    /// <summary>The shape the current batch's passes are priced with.</summary>
    public StandingShape Shape => shape;

    /// <summary>Whether the passes are batch switches, as the pass the batch repeats was.</summary>
    public bool IsBatchSwitch { get; private set; }

    public int KvHeads => shape.KvHeads;

    public double BytesPerToken => shape.BytesPerToken;

    /// <summary>Passes the current batch may stand at most (the policy's word, its members' remaining tokens, its shape's limit).</summary>
    public int Horizon => horizon;

    /// <summary>Standing passes run so far.</summary>
    public int Passes { get; private set; }

    public int Count { get; private set; }

    /// <summary>KV tokens of the batch in the current pass.</summary>
    public long TotalTokens => total0 + (long)Count * Passes;

    /// <summary>The longest member's KV tokens in the current pass.</summary>
    public int LongestTokens => longest0 + Passes;

    /// <summary>Starts a standing batch priced by this GPU's costs (false when it cannot stand, or stands fewer than <see cref="MinimumStandingPasses"/>).</summary>
    public bool Start(ForwardBatch completed, KvBlockManager blocks, int repeatable) =>
        Start(completed, blocks, repeatable, MinimumStandingPasses, ShapeFor);

    /// <summary>This GPU's standing shapes (its costs').</summary>
    private Func<int, int, long, StandingShape?> ShapeFor => (costs ?? throw new InvalidOperationException("This standing batch was given no costs.")).StandingShapeFor;

    /// <summary>
    /// Starts a standing batch from the batch just completed (its requests that did not finish in it, in order) that the policy repeats for
    /// <paramref name="repeatable"/> passes; false (and inactive) when it would run fewer than <paramref name="minimumPasses"/>,
    /// or when <paramref name="shapeFor"/> (requests, longest, total KV tokens of the first pass) has no standing shape for it.
    /// </summary>
    public bool Start(ForwardBatch completed, KvBlockManager blocks, int repeatable, int minimumPasses, Func<int, int, long, StandingShape?> shapeFor)
    {
        if (Active) throw new InvalidOperationException("A standing batch is already running on this GPU.");
        var entries = completed.Entries;
        // The pass this object formed (its members, in order): their block crossings are known, so the survivors' are not read again.
        var formedHere = formedPasses > 0 && ReferenceEquals(completed, formed) && entries.Count == Count;
        // The members are the requests of the completed pass that did not finish in it (a policy may repeat a pass without them).
        Grow(ref next, entries.Count);
        var n = 0;
        for (var i = 0; i < entries.Count; i++)
        {
            if (entries[i].Request.Phase == RequestPhase.Finished) continue;
            if (formedHere) crossings.Move(i, n, formedPasses);
            next[n++] = entries[i].Request;
        }
        formedPasses = 0;
        return StartWith(n, completed.IsBatchSwitch, blocks, repeatable, minimumPasses, shapeFor, crossingsKnown: formedHere);
    }

    /// <summary>The batch <see cref="Form"/> last filled, and the passes its members had run in this batch when it completed (0: none since).</summary>
    private ForwardBatch? formed;
    private int formedPasses;

    /// <summary>
    /// Requests joined the standing batch at this pass (their KV arrived, and the policy's decision is the batch followed by them, one
    /// decode token each: <see cref="IRepeatableSchedule.PullsBesideRepeat"/>): the batch goes on from here as a new one, the joiners
    /// appended, each joiner's next token in its first pass. Its members are not brought up to date: what a fresh batch would read of
    /// them (tokens to go, KV length, blocks held, first crossings, tokens emitted) follows from the passes run, and they owe those passes
    /// until the batch ends. False (and inactive, every member given its tokens) when that batch cannot stand; the policy's next decision
    /// is then the same batch, formed pass by pass.
    /// </summary>
    public bool Rejoin(IReadOnlyList<BatchEntry> joiners, KvBlockManager blocks)
    {
        if (!Active) throw new InvalidOperationException("No standing batch runs on this GPU.");
        var passes = Passes;
        var n = Count + joiners.Count;
        var repeatable = policyWord == int.MaxValue ? int.MaxValue : policyWord - passes;
        // The members' state at the next pass: every one has run the passes so far.
        var remaining = finishPass + 1 - passes;
        var longest = longest0 + passes;
        var total = total0 + (long)Count * passes;
        for (var i = 0; i < joiners.Count; i++) Measure(joiners[i].Request, ref remaining, ref longest, ref total);
        if (!Plan(n, remaining, repeatable, longest, total, MinimumStandingPasses, ShapeFor))
        {
            Exit();
            return false;
        }
        GrowKeeping(ref members, n);
        GrowKeeping(ref context0, n);
        GrowKeeping(ref owed, n);
        for (var r = 0; r < Count; r++)
        {
            context0[r] += passes;
            owed[r] += passes;
        }
        crossings.Rebase(passes, n);
        // Members that had emitted fewer than two tokens at the batch's start, and still have.
        var kept = 0;
        for (var i = 0; i < earlyCount; i++)
            if (early[i].Generated + passes <= 1) early[kept++] = (early[i].Request, early[i].Generated + passes);
        Array.Clear(early, kept, earlyCount - kept);
        earlyCount = kept;
        total0 += (long)Count * passes;
        longest0 += passes;
        for (var i = 0; i < joiners.Count; i++)
        {
            var request = joiners[i].Request;
            var r = Count + i;
            members[r] = request;
            owed[r] = 0;
            AddMember(r, request, blocks);
        }
        crossings.Sort();
        Count = n;
        Passes = 0;
        sums = null;
        return true;
    }

    /// <summary>The next batch's members (the completed batch's requests that did not finish), in order.</summary>
    private Request[] next = [];

    /// <summary>The pass in which the first members finish (their last token): the batch's last.</summary>
    private int finishPass;

    /// <summary>Whether members finish in the current pass (it is then the batch's last: <see cref="Form"/> it once it ran).</summary>
    public bool FinishesThisPass => Passes == finishPass;

    /// <summary>
    /// Ends the batch after the pass in which members finish, as the pass the policy formed: every member is given the standing
    /// passes before it, and <paramref name="into"/> lists them in order, one decode token each, as that pass's batch
    /// (for the serving loop to complete as it completes any pass: tokens, finishes, the policy's bookkeeping).
    /// </summary>
    public ForwardBatch Form(ForwardBatch into)
    {
        if (!FinishesThisPass) throw new InvalidOperationException("Only the pass in which members finish is formed.");
        into.Clear();
        into.IsBatchSwitch = IsBatchSwitch;
        AdvanceMembers();
        for (var r = 0; r < Count; r++) into.Add(members[r], 1);
        End();
        // Once the pass completes, every member has run this one too.
        (formed, formedPasses) = (into, Passes + 1);
        return into;
    }

    /// <summary>The passes the policy vouched for when the batch started.</summary>
    private int policyWord;

    /// <summary>
    /// Members that had emitted fewer than two tokens when the batch started (a request that joined it, whose first pass here emits
    /// its second token, or its first when the prefill GPU handed it on before its last prompt token), and how many they had.
    /// </summary>
    private (Request Request, int Generated)[] early = [];
    private int earlyCount;

    /// <summary>
    /// The members that had emitted fewer than two tokens when the batch started, and how many: in the current pass such a member
    /// emits its token Generated + <see cref="Passes"/> + 1, which a pass formed request by request records when it is the first or
    /// second, and a standing pass must record for it.
    /// </summary>
    public ReadOnlySpan<(Request Request, int Generated)> EarlyMembers => early.AsSpan(0, earlyCount);

    /// <param name="crossingsKnown">Whether the members' block crossings are already set (<see cref="BlockCrossings.Move"/>), not to be read from their blocks.</param>
    private bool StartWith(int n, bool batchSwitch, KvBlockManager blocks, int repeatable, int minimumPasses, Func<int, int, long, StandingShape?> shapeFor,
        bool crossingsKnown = false)
    {
        var remaining = int.MaxValue;
        int longest = 0;
        long total = 0;
        for (var i = 0; i < n; i++) Measure(next[i], ref remaining, ref longest, ref total);
        if (!Plan(n, remaining, repeatable, longest, total, minimumPasses, shapeFor)) return Abandon(n);
        Grow(ref members, n);
        Grow(ref context0, n);
        Grow(ref owed, n);
        Count = n;
        Passes = 0;
        IsBatchSwitch = batchSwitch;
        crossings.Start(n);
        total0 = 0;
        longest0 = 0;
        earlyCount = 0;
        for (var r = 0; r < n; r++)
        {
            var request = next[r];
            next[r] = null!;
            members[r] = request;
            owed[r] = 0;
            AddMember(r, request, crossingsKnown ? null : blocks);
        }
        crossings.Sort();
        // The cost model's sums are built for the first pass priced (a batch that something ends before it never needs them).
        sums = null;
        Active = true;
        return true;
    }

    /// <summary>A member's first pass in a batch: its tokens to go, and its KV length (the pass's next token included).</summary>
    private static void Measure(Request request, ref int remaining, ref int longest, ref long total)
    {
        remaining = Math.Min(remaining, request.OutputTokens - request.GeneratedTokens);
        var length = request.ComputedTokens + 1;
        longest = Math.Max(longest, length);
        total += length;
    }

    /// <summary>
    /// The horizon of a batch of <paramref name="n"/> members whose fewest tokens to go are <paramref name="remaining"/>, and its shape
    /// (its longest and total KV tokens in its first pass): false when it would stand fewer than <paramref name="minimumPasses"/>.
    /// A member with R tokens to go finishes in its R-th pass: the batch stands through it (the policy decided it before anything
    /// finished) and is then formed (<see cref="Form"/>) for the pass's completion; and no more than the policy vouches for.
    /// </summary>
    private bool Plan(int n, int remaining, int repeatable, int longest, long total, int minimumPasses, Func<int, int, long, StandingShape?> shapeFor)
    {
        var planHorizon = Math.Min(remaining, repeatable);
        if (n == 0 || planHorizon < minimumPasses) return false;
        if (shapeFor(n, longest, total) is not { } planned) return false;
        // Pass j has the longest at longest + j: the shape holds while that stays within its limit.
        planHorizon = (int)Math.Min(planHorizon, (long)planned.LongestLimitTokens - longest + 1);
        if (planHorizon < minimumPasses) return false;
        horizon = planHorizon;
        finishPass = remaining - 1;
        shape = planned;
        policyWord = repeatable;
        return true;
    }

    /// <summary>Member <paramref name="r"/> enters the batch at its pass 0: its KV length, block crossings (unless known: no blocks given) and tokens emitted so far are read.</summary>
    private void AddMember(int r, Request request, KvBlockManager? blocks)
    {
        var computed = request.ComputedTokens;
        context0[r] = computed + 1;
        total0 += computed + 1;
        longest0 = Math.Max(longest0, computed + 1);
        if (blocks is not null) crossings.Set(r, blocks.HeldBlocks(request), computed);
        if (request.GeneratedTokens <= 1)
        {
            if (earlyCount == early.Length) Array.Resize(ref early, Math.Max(4, 2 * earlyCount));
            early[earlyCount++] = (request, request.GeneratedTokens);
        }
    }

    // The cost model's sums of the launch, one block per head or split into partitions (kept between batches, so building
    // allocates nothing once their arrays have grown); null until the first pass priced needs them.
    private readonly PerHeadStandingSums perHead = new();
    private PartitionedStandingSums? partitioned;
    private IStandingLaunchSums? sums;

    private IStandingLaunchSums Sums => sums ??= BuildSums();

    private IStandingLaunchSums BuildSums()
    {
        if (shape.OneBlockPerHead)
        {
            perHead.Start(context0.AsSpan(0, Count), shape);
            return perHead;
        }
        partitioned ??= new PartitionedStandingSums();
        partitioned.Start(context0.AsSpan(0, Count), shape, horizon - 1);
        return partitioned;
    }

    /// <summary>The sums of a launch that splits KV (for tests and measurement); null with one block per head.</summary>
    public PartitionedStandingSums? Partitioned => Sums as PartitionedStandingSums;

    /// <summary>The wave bound of the current pass (0 when every block gets a slot at once).</summary>
    public double WavesNs() => Sums.WavesNs(Passes);

    /// <summary>Block tokens capped at the k-th largest block, and that cap, in the current pass (cap 0: fewer blocks than k).</summary>
    public (long CappedBlockTokens, int CapTokens) Capped() => Sums.Capped(Passes);

    /// <summary>The largest launch-order bound of the current pass (0 when no request waits for a wave).</summary>
    public double LaunchOrderNs() => Sums.LaunchOrderNs(Passes);

    /// <summary>Whether the next pass can run standing: within the horizon, and the free blocks cover its crossings.</summary>
    public bool CanRunNext(KvBlockManager blocks)
    {
        if (Passes >= horizon) return false;
        return crossings.CrossingIn(Passes) <= blocks.FreeBlocks;
    }

    /// <summary>The KV blocks the next standing pass reserves: its members crossing into a new block.</summary>
    public int NextPassGrowthBlocks => crossings.CrossingIn(Passes);

    /// <summary>
    /// The next standing pass's cost, its crossing blocks reserved (<see cref="ReserveCrossings"/>); null when it cannot run standing
    /// (<see cref="CanRunNext"/>): the caller then ends the batch.
    /// </summary>
    public IterationCost? TryNextPass(KvBlockManager blocks)
    {
        if (!CanRunNext(blocks)) return null;
        ReserveCrossings(blocks);
        return costs!.EstimateStanding(this);
    }

    /// <summary>The current pass's totals for the metrics (every member a one-token decode).</summary>
    public PassTotals Totals(int kvBlocksUsed, int waiting) =>
        new(Count, 0, Count, TotalTokens, LongestTokens, kvBlocksUsed, waiting, 0, IsBatchSwitch);

    /// <summary>Reserves the blocks of the members crossing into a new block in the next pass (checked by <see cref="CanRunNext"/>): they hold its tokens.</summary>
    public void ReserveCrossings(KvBlockManager blocks)
    {
        foreach (var (_, _, r) in crossings.CrossersIn(Passes)) blocks.Reserve(members[r], context0[r] + Passes);
    }

    /// <summary>The current pass ran.</summary>
    public void PassDone() => Passes++;

    /// <summary>Ends the batch: every member gets its standing passes' tokens (its blocks it got pass by pass).</summary>
    public void Exit()
    {
        AdvanceMembers();
        End();
    }

    /// <summary>Every member gets the standing passes run so far.</summary>
    private void AdvanceMembers()
    {
        for (var r = 0; r < Count; r++)
            if (owed[r] + Passes > 0) members[r].AdvanceDecodes(owed[r] + Passes);
    }

    /// <summary>The batch is over (its members brought up to date): no references kept.</summary>
    private void End()
    {
        Active = false;
        Array.Clear(members, 0, Count);
        Array.Clear(early, 0, earlyCount);
        earlyCount = 0;
    }

    /// <summary>Drops the next batch's members (no references kept) and reports that it cannot stand.</summary>
    private bool Abandon(int n)
    {
        Array.Clear(next, 0, n);
        return false;
    }

    private static void Grow<T>(ref T[] array, int size)
    {
        if (array.Length < size) array = new T[Math.Max(size, 2 * array.Length)];
    }

    private static void GrowKeeping<T>(ref T[] array, int size)
    {
        if (array.Length < size) Array.Resize(ref array, Math.Max(size, 2 * array.Length));
    }
}
