namespace Policies.Core;

/// <summary>
/// The first-come first-served steps the vLLM-family policies share: pull prefilled requests,
/// run the running ones (preempting the latest when blocks run out), admit new ones.
/// </summary>
public static class Fcfs
{
    /// <summary>Pulls prefilled requests FCFS while seats and blocks (above the watermark) allow.</summary>
    public static void PullRemote(GpuQueues q, ForwardBatch batch, int maxSeqs, int watermarkBlocks, Func<Request, int>? reserveTokens = null)
    {
        while (q.Remote.First is { } node && q.Seated < maxSeqs)
        {
            var request = node.Value;
            var tokens = reserveTokens?.Invoke(request) ?? request.ComputedTokens + 1;
            if (!q.Blocks.CanReserve(request, tokens, q.Idle ? 0 : watermarkBlocks)) break;
            q.Remote.RemoveFirst();
            q.Pull(request, tokens, batch);
        }
    }

    /// <summary>
    /// Schedules running requests in admission order, each its pending tokens up to the budget,
    /// preempting from the back (vLLM: the latest admitted) when blocks run out, by recompute or by
    /// swapping to host memory. Returns the budget left.
    /// </summary>
    public static int ScheduleRunning(GpuQueues q, ForwardBatch batch, int budget, bool swap = false)
    {
        var i = 0;
        while (i < q.Running.Count && budget > 0)
        {
            var request = q.Running[i];
            var tokens = Math.Min(request.PendingTokens, budget);
            if (q.Blocks.TryReserve(request, request.ComputedTokens + tokens))
            {
                batch.Add(request, tokens);
                budget -= tokens;
                i++;
                continue;
            }
            var victim = q.Running[^1];
            q.Preempt(victim, batch, swap);
            if (victim == request) break;
        }
        return budget;
    }

    /// <summary>
    /// Admits waiting requests FCFS within the token budget and seat limit. Unchunked, a prompt
    /// is admitted whole (alone if it exceeds the budget, or it would never run); chunked, the
    /// last admitted prompt may take only what is left of the budget.
    /// </summary>
    public static int AdmitWaiting(GpuQueues q, ForwardBatch batch, int budget, int maxSeqs, int watermarkBlocks, bool chunked,
        Func<Request, int>? reserveTokens = null)
    {
        while (q.Waiting.First is { } node && q.Seated < maxSeqs && budget > 0)
        {
            var request = node.Value;
            var tokens = chunked ? Math.Min(request.PendingTokens, budget) : request.PendingTokens;
            if (!chunked && tokens > budget && !batch.IsEmpty) break;
            var reserve = reserveTokens?.Invoke(request) ?? request.ComputedTokens + tokens;
            if (!q.Blocks.CanReserve(request, reserve, q.KeepFree(watermarkBlocks, batch))) break;
            q.Waiting.RemoveFirst();
            q.Admit(request, reserve, tokens, batch);
            budget -= tokens;
        }
        return budget;
    }
}
