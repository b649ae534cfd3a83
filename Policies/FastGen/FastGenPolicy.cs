using Policies.Core;

namespace Policies.FastGen;

/// <summary>
/// DeepSpeed-FastGen's Dynamic SplitFuse (Holmes et al., "DeepSpeed-FastGen", 2024): every
/// forward pass gets about the same number of tokens. Decodes take one each; prompts fill the
/// rest, long ones split into chunks over several passes and short ones fused whole, any
/// number of them at once. A prompt is admitted only when KV for all of it fits, so a started
/// prompt never stalls for memory. Paged KV and preemption by recompute as vLLM.
/// </summary>
public sealed class FastGenPolicy(FastGenOptions options, PolicyContext context) : QueuedPolicy(context), IRepeatableSchedule
{
    private int WatermarkBlocks => Watermark(options.WatermarkFraction);

    protected override ForwardBatch Decide(long nowNs)
    {
        Batch.Clear();
        Fcfs.PullRemote(Queues, Batch, options.MaxNumSeqs, WatermarkBlocks);
        var budget = Fcfs.ScheduleRunning(Queues, Batch, options.TokenBudget);
        Fcfs.AdmitWaiting(Queues, Batch, budget, options.MaxNumSeqs, WatermarkBlocks, chunked: true, r => r.TotalTokens);
        return Batch;
    }

    /// <inheritdoc cref="QueuedPolicy.RepeatsWhileFcfsUnchanged"/>
    public int RepeatablePasses(ForwardBatch completed) => RepeatsWhileFcfsUnchanged(completed);

    /// <inheritdoc cref="QueuedPolicy.PullsBesideFcfsRepeat"/>
    public ForwardBatch? PullsBesideRepeat(long nowNs, int growthBlocks) => PullsBesideFcfsRepeat(options.MaxNumSeqs, WatermarkBlocks, growthBlocks, options.TokenBudget);

    /// <inheritdoc cref="IRepeatableSchedule.TakesChangesBeside"/>
    public bool TakesChangesBeside => true;
}
