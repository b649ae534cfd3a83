using Policies.Core;

namespace Policies.Vllm;

/// <summary>
/// vLLM continuous batching (Kwon et al., "PagedAttention", SOSP 2023). FCFS; KV in paged
/// blocks reserved as tokens grow; when a running request cannot get a block, the most
/// recently admitted request is preempted by recompute (its KV dropped, re-prefilled later
/// ahead of new arrivals). Default is the v0 scheduler: a pass is either all prefills
/// (admitted first) or all decodes. With <see cref="VllmOptions.ChunkedPrefill"/> it follows
/// v1: running requests first, then new prefills, chunked to fill the token budget.
/// On a prefill GPU a request leaves after its first token; on a decode GPU prefilled
/// requests are pulled in FCFS as blocks allow.
/// Simplified: no prefix caching, no swap preemption, no per-request max-length rejection
/// (the simulator rejects such workloads at load); a request preempted on a decode GPU is
/// recomputed there.
/// </summary>
public sealed class VllmPolicy(VllmOptions options, PolicyContext context) : IBatchPolicy
{
    private readonly GpuQueues q = new(context);
    private readonly ForwardBatch batch = new();
    private readonly int watermarkBlocks = (int)(options.WatermarkFraction * context.Blocks.TotalBlocks);

    public int WaitingCount => q.Waiting.Count + q.Remote.Count;

    public int RunningCount => q.Running.Count;

    public int ArrivingCount => q.Arriving.Count;

    public void Enqueue(Request request) => q.Waiting.AddLast(request);

    public void EnqueuePrefilled(Request request) => q.Remote.AddLast(request);

    public ForwardBatch Schedule(long nowNs)
    {
        batch.Clear();
        Fcfs.PullRemote(q, batch, options.MaxNumSeqs, watermarkBlocks);
        var budget = options.MaxNumBatchedTokens;
        if (options.ChunkedPrefill)
        {
            budget = Fcfs.ScheduleRunning(q, batch, budget);
            Fcfs.AdmitWaiting(q, batch, budget, options.MaxNumSeqs, watermarkBlocks, chunked: true);
        }
        else
        {
            Fcfs.AdmitWaiting(q, batch, budget, options.MaxNumSeqs, watermarkBlocks, chunked: false);
            if (batch.IsEmpty) Fcfs.ScheduleRunning(q, batch, budget);
        }
        return batch;
    }

    public void Complete(ForwardBatch completed) => q.Complete(completed);

    public void KvArrived(Request request) => q.KvArrived(request);

    public IReadOnlyList<Request> TakeHandoffs() => q.TakeHandoffs();

    public void Release(Request request) => q.Blocks.Free(request);
}
