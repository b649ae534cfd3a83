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
/// With <c>preemption: swap</c> the victim's KV is copied to host memory and pulled back, ahead of
/// new requests, when blocks free up. Simplified: no prefix caching, no per-request max-length
/// rejection (the simulator rejects such workloads at load); the victim's blocks are reused at
/// once while its copy to host runs on the links (vLLM blocks the step on the swap).
/// </summary>
public sealed class VllmPolicy(VllmOptions options, PolicyContext context) : QueuedPolicy(context), IRepeatableSchedule
{
    private int WatermarkBlocks => Watermark(options.WatermarkFraction);

    protected override ForwardBatch Decide(long nowNs)
    {
        Batch.Clear();
        Fcfs.PullRemote(Queues, Batch, options.MaxNumSeqs, WatermarkBlocks);
        var budget = options.MaxNumBatchedTokens;
        if (options.ChunkedPrefill)
        {
            budget = Fcfs.ScheduleRunning(Queues, Batch, budget, options.Preemption == Preemption.Swap);
            Fcfs.AdmitWaiting(Queues, Batch, budget, options.MaxNumSeqs, WatermarkBlocks, chunked: true);
        }
        else
        {
            Fcfs.AdmitWaiting(Queues, Batch, budget, options.MaxNumSeqs, WatermarkBlocks, chunked: false);
            if (Batch.IsEmpty) Fcfs.ScheduleRunning(Queues, Batch, budget, options.Preemption == Preemption.Swap);
        }
        return Batch;
    }

    /// <inheritdoc cref="QueuedPolicy.RepeatsWhileFcfsUnchanged"/>
    public int RepeatablePasses(ForwardBatch completed) => RepeatsWhileFcfsUnchanged(completed);

    /// <inheritdoc cref="QueuedPolicy.PullsBesideFcfsRepeat"/>
    public ForwardBatch? PullsBesideRepeat(long nowNs, int growthBlocks) => PullsBesideFcfsRepeat(options.MaxNumSeqs, WatermarkBlocks, growthBlocks, options.MaxNumBatchedTokens);

    /// <inheritdoc cref="IRepeatableSchedule.TakesChangesBeside"/>
    public bool TakesChangesBeside => true;
}
