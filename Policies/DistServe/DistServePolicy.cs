using Policies.Core;

namespace Policies.DistServe;

/// <summary>
/// DistServe (Zhong et al., "DistServe: Disaggregating Prefill and Decoding for Goodput-optimized
/// Large Language Model Serving", OSDI 2024): prefill and decode run on different GPUs. A prefill
/// GPU batches whole prompts FCFS up to a token budget; each request's KV then moves to a decode
/// GPU, which pulls requests FCFS as memory allows and decodes them all every pass. Needs a
/// deployment with prefill and decode GPUs. Simplified: placement and parallelism come from the
/// deployment (no search); the decode GPU reserves KV for the whole output at pull time (option),
/// otherwise it preempts by recompute as vLLM.
/// </summary>
public sealed class DistServePolicy(DistServeOptions options, PolicyContext context) : QueuedPolicy(context), IRepeatableSchedule
{

    protected override ForwardBatch Decide(long nowNs)
    {
        Batch.Clear();
        if (Context.Role == GpuRole.Decode)
        {
            Fcfs.PullRemote(Queues, Batch, options.MaxNumSeqs, 0, options.ReserveFullOutput ? r => r.MaxKvTokens : null);
            Fcfs.ScheduleRunning(Queues, Batch, int.MaxValue);
            // A request preempted here (only without the full reservation) is recomputed here.
            Fcfs.AdmitWaiting(Queues, Batch, options.PrefillTokenBudget, options.MaxNumSeqs, 0, chunked: false);
        }
        else
        {
            Fcfs.AdmitWaiting(Queues, Batch, options.PrefillTokenBudget, options.MaxNumSeqs, 0, chunked: false);
            if (Batch.IsEmpty) Fcfs.ScheduleRunning(Queues, Batch, int.MaxValue);
        }
        return Batch;
    }

    /// <inheritdoc cref="QueuedPolicy.RepeatsWhileFcfsUnchanged"/>
    /// <remarks>On a prefill GPU no pass is a decode pass.</remarks>
    public int RepeatablePasses(ForwardBatch completed) => RepeatsWhileFcfsUnchanged(completed);

    /// <inheritdoc cref="QueuedPolicy.PullsBesideFcfsRepeat"/>
    public ForwardBatch? PullsBesideRepeat(long nowNs, int growthBlocks) =>
        Context.Role == GpuRole.Decode ? PullsBesideFcfsRepeat(options.MaxNumSeqs, 0, growthBlocks, int.MaxValue, options.ReserveFullOutput ? r => r.MaxKvTokens : null) : null;

    /// <inheritdoc cref="IRepeatableSchedule.TakesChangesBeside"/>
    public bool TakesChangesBeside => Context.Role == GpuRole.Decode;
}
