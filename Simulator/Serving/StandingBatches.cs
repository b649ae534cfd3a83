using System.Runtime.CompilerServices;
using Policies.Core;
using Policies.Memory;
using Simulator.CostModel;
using Simulator.Metrics;

namespace Simulator.Serving;

/// <summary>
/// The serving loop's one seam to the standing-decode speed-up: when a decode pass leaves nothing changed and the policy
/// vouches that it would decide the same again (<see cref="IRepeatableSchedule"/>), the next passes run as a standing batch
/// (<see cref="StandingDecode"/>: lazy per-request state, O(1) pricing) without asking it, until the policy's word or its time
/// rule runs out, the free blocks cannot cover a pass, something reaches the GPU that the policy does not take beside the batch
/// (<see cref="IRepeatableSchedule.PullsBesideRepeat"/>: KV pulls, requests whose KV arrived), or a member finishes (that pass
/// is then completed as the policy's batch, and the survivors may stand on). It changes how a run is computed, never what it
/// models: the passes, their costs, the block tables and the metrics are those of the pass-by-pass loop (tested file for file). A GPU gets one only where all three parts exist: a policy
/// that vouches, a backend that prices standing passes, and a role that decodes.
/// </summary>
public sealed class StandingBatches
{
    private readonly int gpu;
    private readonly IBatchPolicy policy;
    private readonly IRepeatableSchedule repeats;
    private readonly KvBlockManager blocks;
    private readonly MetricsRecorder metrics;
    private readonly StandingDecode batch;

    private StandingBatches(int gpu, IBatchPolicy policy, IRepeatableSchedule repeats, KvBlockManager blocks, IStandingCosts costs, MetricsRecorder metrics)
    {
        this.gpu = gpu;
        this.policy = policy;
        this.repeats = repeats;
        this.blocks = blocks;
        this.metrics = metrics;
        batch = new StandingDecode(blocks.BlockSizeTokens, costs);
    }

    /// <summary>The standing batches of one GPU, or null when it cannot have any.</summary>
    public static StandingBatches? For(int gpu, GpuRole role, IBatchPolicy policy, KvBlockManager blocks, IStandingCosts? costs, MetricsRecorder metrics) =>
        role != GpuRole.Prefill && policy is IRepeatableSchedule repeats && costs is not null
            ? new StandingBatches(gpu, policy, repeats, blocks, costs, metrics)
            : null;

    /// <summary>Whether a standing batch is running (its members' tokens are not up to date).</summary>
    public bool Active => batch.Active;

    /// <summary>
    /// Something reached the policy while the batch stands: the policy's decision now, when it is the batch again, followed by
    /// requests whose KV arrived, plus KV pulls (<see cref="IRepeatableSchedule.PullsBesideRepeat"/>), and the batch's next pass
    /// can still run standing: the batch stands on (restarted with the joiners, <see cref="StandingDecode.Rejoin"/>) and the
    /// decision is returned for its pulls. Otherwise null, and the batch has ended, every member given its tokens, so the
    /// policy can be asked. A rejoined batch that cannot stand ends too (the decision is still returned: the policy's next one
    /// is then the same batch, formed pass by pass, with nothing more to pull).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public ForwardBatch? DecideBeside(long nowNs)
    {
        if (batch.Active && nowNs < repeats.RepeatUntilNs && batch.CanRunNext(blocks)
            && repeats.PullsBesideRepeat(nowNs, batch.NextPassGrowthBlocks) is { } decided)
        {
            // The policy keeps the growth free (its decision would otherwise have preempted): the pass must still fit.
            if (!batch.CanRunNext(blocks))
                throw new InvalidOperationException($"GPU {gpu}: the policy's pulls beside a standing batch took the blocks its next pass needs.");
            if (decided.Entries.Count > 0) batch.Rejoin(decided.Entries, blocks);
            return decided;
        }
        if (batch.Active) batch.Exit();
        return null;
    }

    /// <summary>
    /// The cost of the standing batch's next pass, its blocks reserved; null when no batch stands, or when this one must end,
    /// which it then does, giving every member its tokens, so the policy can be asked.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public IterationCost? NextPass(long nowNs)
    {
        if (!batch.Active) return null;
        if (nowNs < repeats.RepeatUntilNs && batch.TryNextPass(blocks) is { } cost) return cost;
        batch.Exit();
        return null;
    }

    /// <summary>
    /// The pass <see cref="NextPass"/> priced ran from <paramref name="startNs"/>: record it. When members finished in it, the
    /// batch ends there and the pass is returned as the policy's batch (its members, one decode token each), for the serving
    /// loop to complete and record as it does a formed pass; otherwise null (a standing pass brings no new batch in).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public ForwardBatch? PassDone(long startNs, IterationCost cost)
    {
        metrics.StandingPassDone();
        if (batch.FinishesThisPass) return batch.Form(formed);
        // Members that emitted their first or second token here (requests that joined the batch): recorded as a pass formed request by request records them.
        foreach (var (request, generated) in batch.EarlyMembers)
            if (generated + batch.Passes + 1 <= 2) metrics.EarlyTokenEmitted(request, generated + batch.Passes + 1, startNs + cost.DurationNs);
        metrics.IterationDone(gpu, startNs, cost, batch.Totals(blocks.UsedBlocks, policy.WaitingCount));
        batch.PassDone();
        return null;
    }

    /// <summary>The batch of a standing pass in which members finished (reused).</summary>
    private readonly ForwardBatch formed = new();

    /// <summary>
    /// After a pass the policy formed (or a standing batch's last) completed: start a standing batch from it when the policy vouches
    /// for at least one repeat, and nothing reached the policy during the pass or the policy takes such changes beside a repeat
    /// (the serving loop then brings them to it, <see cref="DecideBeside"/>, before the first standing pass).
    /// </summary>
    public void Offer(ForwardBatch completed, bool touched)
    {
        if ((!touched || repeats.TakesChangesBeside) && repeats.RepeatablePasses(completed) is > 0 and var repeatable) batch.Start(completed, blocks, repeatable);
    }
}
