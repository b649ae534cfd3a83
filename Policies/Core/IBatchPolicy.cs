namespace Policies.Core;

/// <summary>
/// A batching policy for one GPU's serving loop. It sees requests, their KV lengths and the
/// GPU's KV blocks; it decides admission, batch composition, preemption and which remote KV
/// to pull in. It knows nothing of time or events, so the Simulator and the RealRunner drive
/// the same object.
/// <para>Driver contract, per forward pass:</para>
/// <list type="number">
/// <item><see cref="Schedule"/> builds the batch and reserves its KV blocks; it may also list
/// <see cref="ForwardBatch.Pulls"/>: requests whose KV the driver must copy in (blocks already
/// reserved here), after which the driver calls <see cref="KvArrived"/>;</item>
/// <item>the driver executes the batch, then calls <see cref="Request.Advance"/> on every entry;</item>
/// <item><see cref="Complete"/> lets the policy release what finished. On a
/// <see cref="GpuRole.Prefill"/> GPU, requests whose prefill is done are then listed by
/// <see cref="TakeHandoffs"/>; the driver copies their KV out and calls <see cref="Release"/>.</item>
/// </list>
/// A policy that can vouch that its next decisions repeat the last one also implements <see cref="IRepeatableSchedule"/>.
/// </summary>
public interface IBatchPolicy
{
    /// <summary>A new request arrived for this GPU.</summary>
    void Enqueue(Request request);

    /// <summary>A request prefilled elsewhere, its KV on another GPU or in host memory, to decode here.</summary>
    void EnqueuePrefilled(Request request);

    /// <summary>The next forward pass at time <paramref name="nowNs"/> (a plain number: policies keep no clock); its entries are empty when nothing can run now.</summary>
    ForwardBatch Schedule(long nowNs);

    /// <summary>The batch ran and its requests were advanced; release finished requests.</summary>
    void Complete(ForwardBatch batch);

    /// <summary>A pulled request's KV has arrived; it may run from the next pass.</summary>
    void KvArrived(Request request);

    /// <summary>Requests whose prefill finished on this (prefill) GPU, to hand off; valid until the next call.</summary>
    IReadOnlyList<Request> TakeHandoffs();

    /// <summary>A handed-off request's KV has been copied away: free its blocks here.</summary>
    void Release(Request request);

    /// <summary>A request this policy swapped out (<see cref="ForwardBatch.SwapOuts"/>) now has its KV in host memory: it may be pulled back.</summary>
    void SwappedOut(Request request);

    /// <summary>
    /// The driver hands a decode GPU's policy the KV blocks of its paired prefill GPU, where it may stage KV
    /// (<see cref="KvPull.HoldOnPrefillGpu"/>); blocks it reserves there are freed when the KV moves on. Ignored by default.
    /// </summary>
    void UseStagingArea(Memory.KvBlockManager prefillGpuBlocks) { }

    int WaitingCount { get; }

    int RunningCount { get; }

    /// <summary>Requests whose KV is being pulled in.</summary>
    int ArrivingCount { get; }
}
