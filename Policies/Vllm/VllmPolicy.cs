using Policies.Core;
using Policies.Memory;

namespace Policies.Vllm;

/// <summary>
/// vLLM continuous batching (Kwon et al., "PagedAttention", SOSP 2023). FCFS; KV in paged
/// blocks reserved as tokens grow; when a running request cannot get a block, the most
/// recently admitted request is preempted by recompute (its KV dropped, re-prefilled later
/// ahead of new arrivals). Default is the v0 scheduler: a pass is either all prefills
/// (admitted first) or all decodes. With <see cref="VllmOptions.ChunkedPrefill"/> it follows
/// v1: running requests first, then new prefills, chunked to fill the token budget.
/// On a prefill GPU a request leaves after its first token; on a decode GPU prefilled
/// requests are pulled in FCFS as blocks allow (DistServe's decode instance).
/// Simplified: no prefix caching, no swap preemption, no per-request max-length rejection
/// (the simulator rejects such workloads at load); a request preempted on a decode GPU is
/// recomputed there.
/// </summary>
public sealed class VllmPolicy(VllmOptions options, PolicyContext context) : IBatchPolicy
{
    private readonly KvBlockManager blocks = context.Blocks;
    private readonly LinkedList<Request> waiting = new();
    private readonly LinkedList<Request> remote = new();
    private readonly List<Request> running = [];
    private readonly HashSet<Request> arriving = new(ReferenceEqualityComparer.Instance);
    private readonly List<Request> handoffs = [];
    private readonly List<Request> handoffsOut = [];
    private readonly ForwardBatch batch = new();
    private readonly int watermarkBlocks = (int)(options.WatermarkFraction * context.Blocks.TotalBlocks);

    public int WaitingCount => waiting.Count + remote.Count;

    public int RunningCount => running.Count;

    public int ArrivingCount => arriving.Count;

    public void Enqueue(Request request) => waiting.AddLast(request);

    public void EnqueuePrefilled(Request request) => remote.AddLast(request);

    public ForwardBatch Schedule()
    {
        batch.Clear();
        PullRemote();
        var budget = options.MaxNumBatchedTokens;
        if (options.ChunkedPrefill)
        {
            budget = ScheduleRunning(budget);
            AdmitWaiting(budget, chunked: true);
        }
        else
        {
            AdmitWaiting(budget, chunked: false);
            if (batch.IsEmpty) ScheduleRunning(budget);
        }
        return batch;
    }

    public void Complete(ForwardBatch completed)
    {
        for (var i = 0; i < completed.Entries.Count; i++)
        {
            var request = completed.Entries[i].Request;
            if (request.Phase == RequestPhase.Finished) blocks.Free(request);
            else if (context.Role == GpuRole.Prefill && !request.InPrefill) handoffs.Add(request);
        }
        running.RemoveAll(r => r.Phase == RequestPhase.Finished || (context.Role == GpuRole.Prefill && !r.InPrefill));
    }

    public void KvArrived(Request request)
    {
        if (!arriving.Remove(request)) throw new InvalidOperationException($"Request {request.Id} was not being pulled in.");
        request.Phase = RequestPhase.Running;
        running.Add(request);
    }

    public IReadOnlyList<Request> TakeHandoffs()
    {
        handoffsOut.Clear();
        handoffsOut.AddRange(handoffs);
        handoffs.Clear();
        return handoffsOut;
    }

    public void Release(Request request) => blocks.Free(request);

    /// <summary>Pulls prefilled requests FCFS while seats and blocks (above the watermark) allow.</summary>
    private void PullRemote()
    {
        while (remote.First is { } node && running.Count + arriving.Count < options.MaxNumSeqs)
        {
            var request = node.Value;
            var tokens = request.ComputedTokens + 1;
            var nothingElse = running.Count == 0 && arriving.Count == 0;
            if (!blocks.CanReserve(request, tokens, nothingElse ? 0 : watermarkBlocks)) break;
            remote.RemoveFirst();
            blocks.Reserve(request, tokens);
            arriving.Add(request);
            batch.Pulls.Add(request);
        }
    }

    /// <summary>Schedules running requests in admission order, preempting from the back when blocks run out.</summary>
    private int ScheduleRunning(int budget)
    {
        var i = 0;
        while (i < running.Count && budget > 0)
        {
            var request = running[i];
            var tokens = Math.Min(request.PendingTokens, budget);
            if (blocks.CanReserve(request, request.ComputedTokens + tokens))
            {
                blocks.Reserve(request, request.ComputedTokens + tokens);
                batch.Add(request, tokens);
                budget -= tokens;
                i++;
                continue;
            }
            var victim = running[^1];
            Preempt(victim);
            if (victim == request) break;
        }
        return budget;
    }

    private void AdmitWaiting(int budget, bool chunked)
    {
        while (waiting.First is { } node && running.Count + arriving.Count < options.MaxNumSeqs && budget > 0)
        {
            var request = node.Value;
            var tokens = chunked ? Math.Min(request.PendingTokens, budget) : request.PendingTokens;
            // A prompt larger than the whole budget still runs when it is alone, or it would never run.
            if (!chunked && tokens > budget && !batch.IsEmpty) break;
            var nothingElse = running.Count == 0 && arriving.Count == 0 && batch.IsEmpty;
            if (!blocks.CanReserve(request, tokens, nothingElse ? 0 : watermarkBlocks)) break;
            waiting.RemoveFirst();
            blocks.Reserve(request, tokens);
            request.Phase = RequestPhase.Running;
            running.Add(request);
            batch.Add(request, tokens);
            budget -= tokens;
        }
    }

    private void Preempt(Request victim)
    {
        running.RemoveAt(running.LastIndexOf(victim));
        blocks.Free(victim);
        victim.ResetForRecompute();
        waiting.AddFirst(victim);
        batch.Preempted.Add(victim);
    }
}
