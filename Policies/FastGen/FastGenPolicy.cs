using Policies.Core;

namespace Policies.FastGen;

/// <summary>
/// DeepSpeed-FastGen's Dynamic SplitFuse (Holmes et al., "DeepSpeed-FastGen", 2024): every
/// forward pass gets about the same number of tokens. Decodes take one each; prompts fill the
/// rest, long ones split into chunks over several passes and short ones fused whole, any
/// number of them at once. A prompt is admitted only when KV for all of it fits, so a started
/// prompt never stalls for memory. Paged KV and preemption by recompute as vLLM.
/// </summary>
public sealed class FastGenPolicy(FastGenOptions options, PolicyContext context) : IBatchPolicy
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
        var budget = Fcfs.ScheduleRunning(q, batch, options.TokenBudget);
        Fcfs.AdmitWaiting(q, batch, budget, options.MaxNumSeqs, watermarkBlocks, chunked: true, r => r.TotalTokens);
        return batch;
    }

    public void Complete(ForwardBatch completed) => q.Complete(completed);

    public void KvArrived(Request request) => q.KvArrived(request);

    public IReadOnlyList<Request> TakeHandoffs() => q.TakeHandoffs();

    public void Release(Request request) => q.Blocks.Free(request);
}
