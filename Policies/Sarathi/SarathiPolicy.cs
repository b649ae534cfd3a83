using Policies.Core;

namespace Policies.Sarathi;

/// <summary>
/// Sarathi-Serve (Agrawal et al., "Taming Throughput-Latency Tradeoff in LLM Inference with
/// Sarathi-Serve", OSDI 2024): stall-free hybrid batches under a small token budget. Every pass
/// first runs all decodes, then continues the prefill in progress, then admits new prompts
/// whole while they fit; only one prompt at a time is chunked (the first that does not fit),
/// so decodes never wait behind a long prefill. Paged KV and preemption by recompute as vLLM.
/// </summary>
public sealed class SarathiPolicy(SarathiOptions options, PolicyContext context) : QueuedPolicy(context)
{
    private int WatermarkBlocks => Watermark(options.WatermarkFraction);

    public override ForwardBatch Schedule(long nowNs)
    {
        Batch.Clear();
        Fcfs.PullRemote(Queues, Batch, options.MaxNumSeqs, WatermarkBlocks);
        var budget = Fcfs.ScheduleRunning(Queues, Batch, options.TokenBudget);
        // Sarathi: only one prefill is chunked at a time; others join only when whole.
        var chunking = Queues.Running.Any(r => r.InPrefill && r.ComputedTokens > 0);
        while (budget > 0 && Queues.Waiting.First is { } node && Queues.Seated < options.MaxNumSeqs)
        {
            var request = node.Value;
            var whole = request.PendingTokens <= budget;
            if (!whole && chunking) break;
            var tokens = Math.Min(request.PendingTokens, budget);
            if (!Queues.Blocks.CanReserve(request, request.ComputedTokens + tokens, Queues.KeepFree(WatermarkBlocks, Batch))) break;
            Queues.Waiting.RemoveFirst();
            Queues.Admit(request, request.ComputedTokens + tokens, tokens, Batch);
            budget -= tokens;
            chunking |= !whole;
        }
        return Batch;
    }

    /// <inheritdoc cref="QueuedPolicy.RepeatsWhileFcfsUnchanged"/>
    /// <remarks>With only decodes running, no prefill is being chunked, so a waiting prompt meets the same checks as before.</remarks>
    public override int RepeatablePasses(ForwardBatch completed) => RepeatsWhileFcfsUnchanged(completed);
}
