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
public sealed class DistServePolicy(DistServeOptions options, PolicyContext context) : IBatchPolicy
{
    private readonly GpuQueues q = new(context);
    private readonly ForwardBatch batch = new();

    public int WaitingCount => q.Waiting.Count + q.Remote.Count;

    public int RunningCount => q.Running.Count;

    public int ArrivingCount => q.Arriving.Count;

    public void Enqueue(Request request) => q.Waiting.AddLast(request);

    public void EnqueuePrefilled(Request request) => q.Remote.AddLast(request);

    public ForwardBatch Schedule(long nowNs)
    {
        batch.Clear();
        if (context.Role == GpuRole.Decode)
        {
            Fcfs.PullRemote(q, batch, options.MaxNumSeqs, 0, options.ReserveFullOutput ? r => r.MaxKvTokens : null);
            Fcfs.ScheduleRunning(q, batch, int.MaxValue);
            // A request preempted here (only without the full reservation) is recomputed here.
            Fcfs.AdmitWaiting(q, batch, options.PrefillTokenBudget, options.MaxNumSeqs, 0, chunked: false);
        }
        else
        {
            Fcfs.AdmitWaiting(q, batch, options.PrefillTokenBudget, options.MaxNumSeqs, 0, chunked: false);
            if (batch.IsEmpty) Fcfs.ScheduleRunning(q, batch, int.MaxValue);
        }
        return batch;
    }

    public void Complete(ForwardBatch completed) => q.Complete(completed);

    public void KvArrived(Request request) => q.KvArrived(request);

    public IReadOnlyList<Request> TakeHandoffs() => q.TakeHandoffs();

    public void Release(Request request) => q.Blocks.Free(request);
}
