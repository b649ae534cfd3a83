namespace Policies.Core;

/// <summary>
/// The parts of <see cref="IBatchPolicy"/> that are bookkeeping, not decisions: every policy keeps
/// its requests in <see cref="GpuQueues"/> and differs only in <see cref="Schedule"/> (and, for
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

    public abstract ForwardBatch Schedule(long nowNs);

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
    /// request with none finished, their next decision pulls nothing (the first prefilled request did not
    /// fit, and seats do not change while free blocks only shrink), admits nothing (likewise; what it would
    /// reserve for a waiting request does not change while it waits) and schedules every running request
    /// for one token again within the same budget, for as long as nothing changes.
    /// </summary>
    protected int RepeatsWhileFcfsUnchanged(ForwardBatch completed) => Queues.RanAllRunningAsDecodes(completed) ? int.MaxValue : 0;

    /// <summary>KV blocks to keep free when admitting: a share of the GPU's blocks.</summary>
    protected int Watermark(double fraction) => (int)(fraction * Context.Blocks.TotalBlocks);
}
