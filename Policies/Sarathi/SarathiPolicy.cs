using Policies.Core;

namespace Policies.Sarathi;

/// <summary>
/// Sarathi-Serve (Agrawal et al., "Taming Throughput-Latency Tradeoff in LLM Inference with
/// Sarathi-Serve", OSDI 2024), as its scheduler is written (microsoft/sarathi-serve@4efda1b,
/// <c>sarathi/core/scheduler/sarathi_scheduler.py</c>): stall-free hybrid batches under a token
/// budget (its <c>chunk_size</c>). Every pass first runs all decodes, preempting the latest
/// admitted request by recompute only when not one block is free; then continues the prefills in
/// progress, in admission order, with what is left of the budget; then admits new prompts while
/// the budget lasts, the last one chunked. A prompt is admitted only when blocks for all of it
/// fit above the watermark (<c>can_allocate</c>), and all of them are allocated then, so a prompt
/// being chunked never needs more blocks and never causes a preemption.
/// </summary>
public sealed class SarathiPolicy(SarathiOptions options, PolicyContext context) : QueuedPolicy(context), IRepeatableSchedule
{
    private int WatermarkBlocks => Watermark(options.WatermarkFraction);

    protected override ForwardBatch Decide(long nowNs)
    {
        Batch.Clear();
        Fcfs.PullRemote(Queues, Batch, options.MaxNumSeqs, WatermarkBlocks);
        var budget = options.TokenBudget - ScheduleDecodes();
        // The prefills in progress: their blocks were all allocated at admission.
        foreach (var request in Queues.Running)
        {
            if (budget <= 0) break;
            if (!request.InPrefill) continue;
            var tokens = Math.Min(request.PendingTokens, budget);
            Queues.Blocks.Reserve(request, request.ComputedTokens + tokens);
            Batch.Add(request, tokens);
            budget -= tokens;
        }
        // New prompts (and recomputed ones: prompt plus generated tokens), whole blocks up front, the last one chunked.
        Fcfs.AdmitWaiting(Queues, Batch, budget, options.MaxNumSeqs, WatermarkBlocks, chunked: true, reserveTokens: r => r.TotalTokens);
        return Batch;
    }

    /// <summary>Every running decode gets one token; when no block is free, the latest admitted request is preempted (recompute). Returns the decodes scheduled.</summary>
    private int ScheduleDecodes()
    {
        var decodes = 0;
        var i = 0;
        while (i < Queues.Running.Count)
        {
            var request = Queues.Running[i];
            if (request.InPrefill) { i++; continue; }
            if (Queues.Blocks.TryReserve(request, request.ComputedTokens + 1))
            {
                Batch.Add(request, 1);
                decodes++;
                i++;
                continue;
            }
            // The victim is never one already scheduled: it is the last of the list, at or after i.
            var victim = Queues.Running[^1];
            Queues.Preempt(victim, Batch);
            if (victim == request) break;
        }
        return decodes;
    }

    /// <inheritdoc cref="QueuedPolicy.RepeatsWhileFcfsUnchanged"/>
    /// <remarks>With only decodes running, no prefill is in progress, so a waiting prompt meets the same checks as before.</remarks>
    public int RepeatablePasses(ForwardBatch completed) => RepeatsWhileFcfsUnchanged(completed);

    /// <inheritdoc cref="QueuedPolicy.PullsBesideFcfsRepeat"/>
    public ForwardBatch? PullsBesideRepeat(long nowNs, int growthBlocks) => PullsBesideFcfsRepeat(options.MaxNumSeqs, WatermarkBlocks, growthBlocks, int.MaxValue);

    /// <inheritdoc cref="IRepeatableSchedule.TakesChangesBeside"/>
    public bool TakesChangesBeside => true;
}
