using Policies.Core;

namespace Policies.Sarathi;

/// <summary>
/// Sarathi-Serve (Agrawal et al., "Taming Throughput-Latency Tradeoff in LLM Inference with
/// Sarathi-Serve", OSDI 2024): stall-free hybrid batches under a small token budget. Every pass
/// first runs all decodes, then continues the prefill in progress, then admits new prompts
/// whole while they fit; only one prompt at a time is chunked (the first that does not fit),
/// so decodes never wait behind a long prefill. Paged KV and preemption by recompute as vLLM.
/// </summary>
public sealed class SarathiPolicy(SarathiOptions options, PolicyContext context) : IBatchPolicy
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
        // Sarathi: only one prefill is chunked at a time; others join only when whole.
        var chunking = q.Running.Any(r => r.InPrefill && r.ComputedTokens > 0);
        while (budget > 0 && q.Waiting.First is { } node && q.Seated < options.MaxNumSeqs)
        {
            var request = node.Value;
            var whole = request.PendingTokens <= budget;
            if (!whole && chunking) break;
            var tokens = Math.Min(request.PendingTokens, budget);
            if (!q.Blocks.CanReserve(request, request.ComputedTokens + tokens, q.Reserve(watermarkBlocks, batch))) break;
            q.Waiting.RemoveFirst();
            q.Admit(request, request.ComputedTokens + tokens, tokens, batch);
            budget -= tokens;
            chunking |= !whole;
        }
        return batch;
    }

    public void Complete(ForwardBatch completed) => q.Complete(completed);

    public void KvArrived(Request request) => q.KvArrived(request);

    public IReadOnlyList<Request> TakeHandoffs() => q.TakeHandoffs();

    public void Release(Request request) => q.Blocks.Free(request);
}
