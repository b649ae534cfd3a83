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
public sealed class OrcaPolicy(OrcaOptions options, PolicyContext context) : IBatchPolicy
{
    private readonly GpuQueues q = new(context);
    private readonly ForwardBatch batch = new();
    private readonly int capacityTokens = context.Blocks.TotalBlocks * context.Blocks.BlockSizeTokens;

    public int WaitingCount => q.Waiting.Count + q.Remote.Count;

    public int RunningCount => q.Running.Count;

    public int ArrivingCount => q.Arriving.Count;

    public void Enqueue(Request request) => q.Waiting.AddLast(request);

    public void EnqueuePrefilled(Request request) => q.Remote.AddLast(request);

    private int ReserveTokens(Request request) =>
        Math.Min(capacityTokens, Math.Max(request.MaxKvTokens, Math.Max(options.MaxSequenceTokens, request.TotalTokens)));

    public ForwardBatch Schedule(long nowNs)
    {
        batch.Clear();
        Fcfs.PullRemote(q, batch, options.MaxBatchSize, 0, ReserveTokens);
        // Running requests hold their whole reservation: their next token always fits.
        Fcfs.ScheduleRunning(q, batch, int.MaxValue);
        Fcfs.AdmitWaiting(q, batch, options.MaxNumBatchedTokens, options.MaxBatchSize, 0, chunked: false, ReserveTokens);
        return batch;
    }

    public void Complete(ForwardBatch completed) => q.Complete(completed);

    public void KvArrived(Request request) => q.KvArrived(request);

    public IReadOnlyList<Request> TakeHandoffs() => q.TakeHandoffs();

    public void Release(Request request) => q.Blocks.Free(request);
}
