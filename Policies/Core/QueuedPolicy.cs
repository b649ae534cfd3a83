namespace Policies.Core;

/// <summary>
/// The parts of <see cref="IBatchPolicy"/> that are bookkeeping, not decisions: every policy keeps
/// its requests in <see cref="GpuQueues"/> and differs only in <see cref="Decide"/> (and, for
/// AlignedServe, where prefilled requests wait). Policies derive from it as sealed classes.
/// </summary>
public abstract class QueuedPolicy(PolicyContext context) : IBatchPolicy
{
    protected GpuQueues Queues { get; } = new(context);

    /// <summary>The batch the policy fills; reused, so it is valid until the next decision.</summary>
    protected ForwardBatch Batch { get; } = new();

    protected PolicyContext Context { get; } = context;

    public virtual int WaitingCount => Queues.Waiting.Count + Queues.Remote.Count + Queues.SwappingOut;

    public int RunningCount => Queues.Running.Count;

    public virtual int ArrivingCount => Queues.Arriving.Count;

    public void Enqueue(Request request) => Queues.Waiting.AddLast(request);

    public virtual void EnqueuePrefilled(Request request) => Queues.Remote.AddLast(request);

    /// <summary>The policy's decision (<see cref="IBatchPolicy.Schedule"/>); the queues note the running requests it left.</summary>
    public ForwardBatch Schedule(long nowNs)
    {
        var batch = Decide(nowNs);
        Decided();
        return batch;
    }

    /// <summary>What differs between policies: the batch of the next pass, formed from <see cref="Queues"/>.</summary>
    protected abstract ForwardBatch Decide(long nowNs);

    public virtual void Complete(ForwardBatch batch) => Queues.Complete(batch);

    public virtual void KvArrived(Request request) => Queues.KvArrived(request);

    public IReadOnlyList<Request> TakeHandoffs() => Queues.TakeHandoffs();

    public void Release(Request request) => Queues.Blocks.Free(request);

    /// <summary>A swapped-out request waits first among the prefilled requests, to be pulled back.</summary>
    public virtual void SwappedOut(Request request)
    {
        Queues.EndSwapOut();
        Queues.Remote.AddFirst(request);
    }

    /// <summary>No staging on another GPU unless a policy stages there (see <see cref="IBatchPolicy.UseStagingArea"/>).</summary>
    public virtual void UseStagingArea(Memory.KvBlockManager prefillGpuBlocks) { }

    /// <summary>
    /// The argument the first-come first-served policies share: after a pure decode pass of every running
    /// request (<see cref="GpuQueues.RanAllRunningAsDecodesOrFinished"/>), their next decision pulls nothing (the
    /// first prefilled request did not fit, and seats do not change while free blocks only shrink), admits nothing
    /// (likewise; what it would reserve for a waiting request does not change while it waits) and schedules every
    /// running request for one token again within the same budget, for as long as nothing changes. A member that
    /// finished in the pass freed blocks and a seat; with nothing waiting to be admitted or pulled, that changes
    /// nothing either.
    /// </summary>
    protected int RepeatsWhileFcfsUnchanged(ForwardBatch completed)
    {
        var joined = Queues.RunningChanges - decidedChanges;
        if (!Queues.RanAllRunningAsDecodesOrFinished(completed, joined, out var survivors)) return 0;
        // The repeat is the survivors; requests that joined during the pass are the next decision's joiners (PullsBesideRepeat).
        (decidedCount, decidedChanges) = (survivors, Queues.RunningChanges - (Queues.Running.Count - survivors));
        return int.MaxValue;
    }

    /// <summary>
    /// The running requests the last decision (or repeat vouched for) left: how many, and <see cref="GpuQueues.RunningChanges"/> then.
    /// Requests appended since (their KV arrived) are joiners; any other change (a start, a preemption, a finish's removal) is not.
    /// </summary>
    private int decidedCount;
    private long decidedChanges = -1;

    private void Decided() => (decidedCount, decidedChanges) = (Queues.Running.Count, Queues.RunningChanges);

    /// <summary>
    /// The first-come first-served policies' <see cref="IRepeatableSchedule.PullsBesideRepeat"/>. Their decision pulls prefilled
    /// requests first (<see cref="Fcfs.PullRemote"/>, with these <paramref name="maxSeqs"/>, <paramref name="watermarkBlocks"/> and
    /// <paramref name="reserveTokens"/>), then schedules the running requests in order, one token each within
    /// <paramref name="decodeBudget"/> tokens, then admits waiting ones.
    /// Since the repeat was vouched for, the running requests can only have been joined by requests whose KV arrived (appended);
    /// with nothing waiting to be admitted, the decision is the repeat, those joiners (each a decode whose blocks the pull
    /// reserved) and the pulls, provided the pulls leave the repeat's <paramref name="growthBlocks"/> free: pulls keep
    /// <paramref name="watermarkBlocks"/> free, so that holds when the watermark covers the growth or nothing waits to be pulled
    /// (otherwise the decision might preempt: null). The repeat, joiners included, is then vouched for again.
    /// </summary>
    protected ForwardBatch? PullsBesideFcfsRepeat(int maxSeqs, int watermarkBlocks, int growthBlocks, int decodeBudget, Func<Request, int>? reserveTokens = null)
    {
        var running = Queues.Running;
        var joiners = running.Count - decidedCount;
        if (decidedChanges < 0 || joiners < 0 || Queues.RunningChanges - decidedChanges != joiners || Queues.Waiting.Count > 0) return null;
        // The decision schedules running requests a token each within its budget: the joiners too only while it covers them.
        if (running.Count > decodeBudget) return null;
        if (Queues.Remote.Count > 0 && watermarkBlocks < growthBlocks) return null;
        for (var i = decidedCount; i < running.Count; i++)
        {
            var joiner = running[i];
            if (joiner.PendingTokens != 1 || Queues.Blocks.MissingBlocks(joiner, joiner.ComputedTokens + 1) > 0) return null;
        }
        Batch.Clear();
        Fcfs.PullRemote(Queues, Batch, maxSeqs, watermarkBlocks, reserveTokens);
        for (var i = decidedCount; i < running.Count; i++) Batch.Add(running[i], 1);
        Decided();
        return Batch;
    }

    /// <summary>KV blocks to keep free when admitting: a share of the GPU's blocks.</summary>
    protected int Watermark(double fraction) => (int)(fraction * Context.Blocks.TotalBlocks);
}
