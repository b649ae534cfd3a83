using Policies.Core;

namespace Policies.Aligned;

/// <summary>
/// AlignedServe (SIGMOD 2026, arXiv 2605.23389), as far as it is public. Prefill GPUs batch
/// whole prompts FCFS and hand every request's KV to the host KV pool; each decode GPU runs one
/// batch at a time, formed from the pool by prefix-aware batching: a density-first search over
/// a length index (<see cref="LengthIndex"/>) picks requests of similar KV length from the
/// densest region, at least k_min of them, with the batch's KV capped at b_max of the GPU.
/// Batch-level scheduling keeps a candidate batch buffer (the next batch, its KV staged while the
/// current batch runs) and a candidate requests buffer (pool requests of nearby length that
/// join as members finish); the switch happens once the running batch has shrunk below a
/// threshold, and the passes where two batches coexist are flagged. A starvation guard forces
/// long-waiting requests into the next Batch. Every part is an option (<see cref="AlignedOptions"/>).
/// A decode GPU out of blocks swaps its latest request back to the pool (option: recompute).
/// Simplified: each decode GPU draws from the share of the pool handed to it (not one shared
/// pool); staging on the prefill GPU does not take its KV blocks.
/// </summary>
public sealed class AlignedPolicy(AlignedOptions options, PolicyContext context) : QueuedPolicy(context)
{
    private readonly LengthIndex pool = new();
    private readonly LinkedList<Request> fifo = new();
    private readonly Dictionary<Request, (LinkedListNode<Request> Node, long PooledNs)> pooled = new(ReferenceEqualityComparer.Instance);
    private readonly List<Request> incoming = [];
    private readonly HashSet<Request> candidate = new(ReferenceEqualityComparer.Instance);
    private readonly List<Request> staged = [];
    private readonly HashSet<Request> previousBatch = new(ReferenceEqualityComparer.Instance);
    private readonly List<Request> picked = [];
    private readonly HashSet<Request> chosen = new(ReferenceEqualityComparer.Instance);
    private readonly long batchTokenCap = (long)(options.BMax * context.Blocks.TotalBlocks * context.Blocks.BlockSizeTokens);
    private int batchSize;

    /// <summary>The last decision tried to form a candidate batch and picked nothing.</summary>
    private bool formationFoundNothing;

    public override int WaitingCount => Queues.Waiting.Count + pool.Count + incoming.Count + Queues.SwappingOut;

    public override int ArrivingCount => Queues.Arriving.Count + staged.Count;

    /// <summary>Requests currently in this GPU's share of the host pool.</summary>
    public int PoolCount => pool.Count;

    public override void EnqueuePrefilled(Request request) => incoming.Add(request);

    /// <summary>Requests swapped out here come back through the pool, like newly prefilled ones.</summary>
    public override void SwappedOut(Request request)
    {
        Queues.EndSwapOut();
        incoming.Add(request);
    }

    public override ForwardBatch Schedule(long nowNs)
    {
        Batch.Clear();
        if (Context.Role != GpuRole.Decode)
        {
            // Prefill side: whole prompts FCFS; the driver moves their KV to the host pool.
            Fcfs.AdmitWaiting(Queues, Batch, options.PrefillTokenBudget, options.MaxNumSeqs, 0, chunked: false);
            if (Batch.IsEmpty) Fcfs.ScheduleRunning(Queues, Batch, int.MaxValue, options.Preemption == Vllm.Preemption.Swap);
            return Batch;
        }
        foreach (var request in incoming) AddToPool(request, nowNs);
        incoming.Clear();

        formationFoundNothing = false;
        if (candidate.Count == 0 && pool.Count > 0 && (options.Prefetch || SwitchDue())) formationFoundNothing = !FormCandidateBatch(nowNs);
        if (candidate.Count > 0 && staged.Count == candidate.Count && SwitchDue()) SwitchBatches();
        if (options.CandidateRequests && !SwitchDue()) RefillRunningBatch();

        Fcfs.ScheduleRunning(Queues, Batch, int.MaxValue, options.Preemption == Vllm.Preemption.Swap);
        if (Queues.Running.Count == 0 && candidate.Count > 0 && staged.Count == candidate.Count)
        {
            // Preemption emptied the running batch: the staged batch takes over now.
            SwitchBatches();
            Fcfs.ScheduleRunning(Queues, Batch, int.MaxValue, options.Preemption == Vllm.Preemption.Swap);
        }
        // Requests preempted here are recomputed here, as new prompts.
        if (Queues.Waiting.Count > 0) Fcfs.AdmitWaiting(Queues, Batch, options.PrefillTokenBudget, options.MaxNumSeqs, 0, chunked: false);
        Batch.IsBatchSwitch = previousBatch.Count > 0 && Queues.Running.Count > previousBatch.Count;
        return Batch;
    }

    public override void Complete(ForwardBatch completed)
    {
        Queues.Complete(completed);
        if (previousBatch.Count > 0) previousBatch.RemoveWhere(r => r.Phase != RequestPhase.Running);
    }

    /// <summary>
    /// After a pure decode pass of every running request with none finished. On a prefill or colocated GPU,
    /// as vllm: nothing that could not be admitted now can be admitted before blocks are freed. On a decode
    /// GPU the next decisions must also pull nothing: no candidate batch forms (a batch is already staging,
    /// or the last attempt picked nothing from this pool, whose first pick can only fail again as free
    /// blocks shrink; not with the starvation guard, which changes picks over time), no switch is due, and
    /// the candidate-requests buffer finds no pooled request within the running batch's length range. That
    /// range moves up one token per pass, so the buffer stays quiet until it reaches the shortest pooled
    /// length above it: the passes returned.
    /// </summary>
    public override int RepeatablePasses(ForwardBatch completed)
    {
        if (!Queues.RanAllRunningAsDecodes(completed) || incoming.Count > 0) return 0;
        if (Context.Role != GpuRole.Decode || pool.Count == 0) return int.MaxValue;
        var switchDue = SwitchDue();
        if (candidate.Count == 0 && (options.Prefetch || switchDue) && !(formationFoundNothing && options.StarvationGuardS is null)) return 0;
        if (candidate.Count > 0 && staged.Count == candidate.Count && switchDue) return 0;
        if (!options.CandidateRequests || switchDue) return int.MaxValue;
        var joining = Queues.Arriving.Count - (candidate.Count - staged.Count);
        if (Queues.Running.Count + joining >= batchSize) return int.MaxValue;
        var (_, lo, hi) = RunningLengths();
        if (pool.ShortestAtLeast(lo) is not { } next) return int.MaxValue;
        return Math.Max(0, next - hi);
    }

    public override void KvArrived(Request request)
    {
        if (candidate.Contains(request))
        {
            Queues.ArrivedStaged(request);
            staged.Add(request);
        }
        else Queues.KvArrived(request);
    }

    public override string ToString() =>
        $"aligned: pool {pool.Count}, incoming {incoming.Count}, candidate {candidate.Count} (staged {staged.Count}), running {Queues.Running.Count}, arriving {Queues.Arriving.Count}, local waiting {Queues.Waiting.Count}, batch size {batchSize}";

    private bool SwitchDue() => Queues.Running.Count == 0 || Queues.Running.Count < options.SwitchThreshold * batchSize;

    private void AddToPool(Request request, long nowNs)
    {
        pool.Add(request, request.ComputedTokens + 1);
        pooled[request] = (fifo.AddLast(request), nowNs);
    }

    private void TakeFromPool(Request request)
    {
        pool.Remove(request);
        pooled.Remove(request, out var entry);
        fifo.Remove(entry.Node);
    }

    /// <summary>Picks the next batch from the pool and starts staging its KV; false when it picked nothing.</summary>
    private bool FormCandidateBatch(long nowNs)
    {
        picked.Clear();
        long tokens = 0;
        var freeBlocks = Queues.Blocks.FreeBlocks;
        bool TryPick(Request r)
        {
            var need = r.ComputedTokens + 1;
            var blocks = Queues.Blocks.BlocksFor(need);
            if (picked.Count >= options.MaxNumSeqs || (tokens + need > batchTokenCap && picked.Count > 0) || blocks > freeBlocks) return false;
            picked.Add(r);
            tokens += need;
            freeBlocks -= blocks;
            return true;
        }

        // Starvation guard: requests pooled too long go first, oldest first.
        if (options.StarvationGuardS is { } guard)
            foreach (var r in fifo)
                if (nowNs - pooled[r].PooledNs > guard * 1e9) { if (!TryPick(r)) break; }
                else break;

        chosen.Clear();
        chosen.UnionWith(picked);
        bool Offer(Request r)
        {
            if (chosen.Contains(r)) return true;
            if (!TryPick(r)) return false;
            chosen.Add(r);
            return true;
        }
        if (options.PrefixAware)
        {
            // Density-first: the densest narrow length region holding k_min requests, widened to its
            // sibling ranges (nearest lengths first) while the batch is short of k_min.
            var (node, _, _) = pool.DensestRegion(options.KMin);
            var full = false;
            foreach (var r in pool.InNode(node))
                if (!Offer(r)) { full = true; break; }
            for (var n = node; n > 1 && !full && picked.Count < options.KMin; n >>= 1)
                foreach (var r in pool.Sibling(n))
                    if (picked.Count >= options.KMin) break;
                    else if (!Offer(r)) { full = true; break; }
        }
        else
        {
            foreach (var r in fifo)
                if (!Offer(r)) break;
        }

        foreach (var r in picked)
        {
            TakeFromPool(r);
            candidate.Add(r);
            Queues.Pull(r, r.ComputedTokens + 1, Batch, options.PrefetchPath == PrefetchPath.GpuPrefetch);
        }
        return picked.Count > 0;
    }

    /// <summary>The staged candidate batch starts running beside what is left of the current one.</summary>
    private void SwitchBatches()
    {
        previousBatch.Clear();
        foreach (var r in Queues.Running) previousBatch.Add(r);
        foreach (var r in staged) Queues.Run(r);
        batchSize = Queues.Running.Count;
        candidate.Clear();
        staged.Clear();
    }

    /// <summary>
    /// Candidate requests buffer: as members finish, pull pool requests whose KV length lies within
    /// the running batch's range (nearest its mean first), so the batch stays aligned; when none
    /// do, the batch shrinks towards a switch.
    /// </summary>
    private void RefillRunningBatch()
    {
        if (Queues.Running.Count == 0 || pool.Count == 0) return;
        var (sum, lo, hi) = RunningLengths();
        var mean = (int)(sum / Queues.Running.Count);
        var joining = Queues.Arriving.Count - (candidate.Count - staged.Count);
        while (Queues.Running.Count + joining < batchSize && pool.Count > 0)
        {
            var r = pool.Nearest(mean)!;
            var length = r.ComputedTokens + 1;
            if (length < lo || length > hi || !Queues.Blocks.CanReserve(r, length)) break;
            TakeFromPool(r);
            Queues.Pull(r, length, Batch, options.PrefetchPath == PrefetchPath.GpuPrefetch);
            joining++;
        }
    }

    /// <summary>The running batch's KV lengths as the next pass sees them (computed tokens + 1): sum, shortest, longest.</summary>
    private (long Sum, int Lo, int Hi) RunningLengths()
    {
        long sum = 0;
        int lo = int.MaxValue, hi = 0;
        foreach (var r in Queues.Running)
        {
            var length = r.ComputedTokens + 1;
            sum += length;
            lo = Math.Min(lo, length);
            hi = Math.Max(hi, length);
        }
        return (sum, lo, hi);
    }
}
