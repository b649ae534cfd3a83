using Policies.Core;

namespace Policies.Orca;

/// <summary>
/// Orca (Yu et al., "Orca: A Distributed Serving System for Transformer-Based Generative
/// Models", OSDI 2022): iteration-level scheduling with selective batching. Every pass runs one
/// token of every running request plus the whole prompts of newly admitted ones (prefill and
/// decode mixed). KV for the maximum sequence length is reserved at admission, so no request is
/// ever preempted; the price is memory held for tokens that may never be generated.
/// Simplified: the reservation is block-granular (paged) and capped at the GPU's capacity; on a
/// decode GPU, prefilled requests are pulled FCFS with the same reservation.
/// </summary>
public sealed class OrcaPolicy(OrcaOptions options, PolicyContext context) : QueuedPolicy(context), IRepeatableSchedule
{
    private readonly int capacityTokens = context.Blocks.TotalBlocks * context.Blocks.BlockSizeTokens;

    private int ReserveTokens(Request request) =>
        Math.Min(capacityTokens, Math.Max(request.MaxKvTokens, Math.Max(options.MaxSequenceTokens, request.TotalTokens)));

    protected override ForwardBatch Decide(long nowNs)
    {
        Batch.Clear();
        Fcfs.PullRemote(Queues, Batch, options.MaxBatchSize, 0, ReserveTokens);
        // Running requests hold their whole reservation: their next token always fits.
        Fcfs.ScheduleRunning(Queues, Batch, int.MaxValue);
        Fcfs.AdmitWaiting(Queues, Batch, options.MaxNumBatchedTokens, options.MaxBatchSize, 0, chunked: false, ReserveTokens);
        return Batch;
    }

    /// <inheritdoc cref="QueuedPolicy.RepeatsWhileFcfsUnchanged"/>
    /// <remarks>Running requests hold their whole reservation, so free blocks do not change at all.</remarks>
    public int RepeatablePasses(ForwardBatch completed) => RepeatsWhileFcfsUnchanged(completed);

    /// <inheritdoc cref="QueuedPolicy.PullsBesideFcfsRepeat"/>
    public ForwardBatch? PullsBesideRepeat(long nowNs, int growthBlocks) => PullsBesideFcfsRepeat(options.MaxBatchSize, 0, growthBlocks, int.MaxValue, ReserveTokens);

    /// <inheritdoc cref="IRepeatableSchedule.TakesChangesBeside"/>
    public bool TakesChangesBeside => true;
}
