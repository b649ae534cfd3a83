using Policies.Core;
using Policies.Memory;

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
/// threshold; the pass that brings the new batch in is the switch as the paper counts it, and the passes where two
/// batches coexist are flagged apart. The starvation guard (on by default) bounds the pool wait: a request pooled
/// longer than the bound joins the running batch, oldest first, as soon as it fits under b_max, and goes first into
/// the next batch otherwise. Every part is an option (<see cref="AlignedOptions"/>).
/// A decode GPU out of blocks swaps its latest request back to the pool (option: recompute).
/// The candidate batch waits in the paired prefill GPU's HBM by default (<see cref="CandidateBuffer"/>): its blocks are reserved
/// there, at most what the prefill GPU has free beyond one prefill pass's budget, and the switch pulls it over NVLink into the
/// decode GPU's blocks as they allow. Simplified: each decode GPU draws from the share of the pool handed to it (not one shared pool).
/// </summary>
public sealed class AlignedPolicy(AlignedOptions options, PolicyContext context) : QueuedPolicy(context), IRepeatableSchedule
{
    private readonly LengthIndex pool = new();
    private readonly LinkedList<Request> fifo = new();
    private readonly Dictionary<Request, (LinkedListNode<Request> Node, long PooledNs)> pooled = new(ReferenceEqualityComparer.Instance);
    private readonly List<Request> incoming = [];
    private readonly HashSet<Request> candidate = new(ReferenceEqualityComparer.Instance);
    private readonly List<Request> staged = [];
    /// <summary>Members of the batch switched in whose KV still waits on the prefill GPU for blocks here.</summary>
    private readonly List<Request> movingIn = [];
    private KvBlockManager? stagingArea;
    /// <summary>The current candidate batch's KV waits on the prefill GPU (else in this GPU's blocks).</summary>
    private bool candidateHeld;
    private readonly HashSet<Request> previousBatch = new(ReferenceEqualityComparer.Instance);
    private readonly List<Request> picked = [];
    private readonly HashSet<Request> chosen = new(ReferenceEqualityComparer.Instance);
    private readonly long batchTokenCap = (long)(options.BMax * context.Blocks.TotalBlocks * context.Blocks.BlockSizeTokens);
    private readonly long guardNs = options.StarvationGuardS is { } guard ? (long)(guard * 1e9) : long.MaxValue;
    private int batchSize;
    private long repeatUntilNs = long.MaxValue;
    /// <summary>When the candidate batch's longest-pooled member entered the pool (the guard covers staged requests too).</summary>
    private long candidatePooledNs = long.MaxValue;

    /// <summary>The last decision tried to form a candidate batch and picked nothing.</summary>
    private bool formationFoundNothing;

    public override int WaitingCount => Queues.Waiting.Count + pool.Count + incoming.Count + Queues.SwappingOut;

    public override int ArrivingCount => Queues.Arriving.Count + movingIn.Count + (candidateHeld ? candidate.Count : staged.Count);

    public override void UseStagingArea(KvBlockManager prefillGpuBlocks)
    {
        if (options.Staging == CandidateBuffer.PrefillGpu && options.PrefetchPath == PrefetchPath.GpuPrefetch && Context.Role == GpuRole.Decode)
            stagingArea = prefillGpuBlocks;
    }

    /// <summary>Requests currently in this GPU's share of the host pool.</summary>
    public int PoolCount => pool.Count;

    public override void EnqueuePrefilled(Request request) => incoming.Add(request);

    /// <summary>Requests swapped out here come back through the pool, like newly prefilled ones.</summary>
    public override void SwappedOut(Request request)
    {
        Queues.EndSwapOut();
        incoming.Add(request);
    }

    protected override ForwardBatch Decide(long nowNs)
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
        if (candidate.Count == 0 && pool.Count > 0 && (options.Prefetch || SwitchDue()) && EnoughToForm(nowNs))
            formationFoundNothing = !FormCandidateBatch(nowNs);
        if (candidate.Count > 0 && staged.Count == candidate.Count && (SwitchDue() || nowNs - candidatePooledNs > guardNs)) SwitchBatches();
        MoveIn();
        AdmitStarved(nowNs);
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
        repeatUntilNs = fifo.First is { } oldest && !Starved(oldest.Value, nowNs) ? pooled[oldest.Value].PooledNs + guardNs + 1 : long.MaxValue;
        if (candidate.Count > 0 && nowNs - candidatePooledNs <= guardNs) repeatUntilNs = Math.Min(repeatUntilNs, candidatePooledNs + guardNs + 1);
        return Batch;
    }

    /// <summary>
    /// When the oldest pooled request, or the candidate batch, turns starved (the guard's next say). Once a pooled request is
    /// starved and still pooled it did not fit (<see cref="AdmitStarved"/>), and starved requests join oldest first, so time
    /// alone changes nothing more for them; a starved candidate batch switches in as soon as it is staged.
    /// </summary>
    public long RepeatUntilNs => Context.Role == GpuRole.Decode ? repeatUntilNs : long.MaxValue;

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
    public int RepeatablePasses(ForwardBatch completed)
    {
        if (!Queues.RanAllRunningAsDecodes(completed) || incoming.Count > 0 || movingIn.Count > 0) return 0;
        if (Context.Role != GpuRole.Decode || pool.Count == 0) return int.MaxValue;
        var switchDue = SwitchDue();
        // With the buffer on the prefill GPU, a formation that found nothing may succeed once another GPU's batch leaves it.
        if (candidate.Count == 0 && (options.Prefetch || switchDue) && !(formationFoundNothing && options.StarvationGuardS is null && stagingArea is null))
            return 0;
        if (candidate.Count > 0 && staged.Count == candidate.Count && switchDue) return 0;
        if (!options.CandidateRequests || switchDue) return int.MaxValue;
        if (Queues.Running.Count + Joining() >= batchSize) return int.MaxValue;
        var (_, lo, hi) = RunningLengths();
        if (pool.ShortestAtLeast(lo) is not { } next) return int.MaxValue;
        return Math.Max(0, next - hi);
    }

    public override void KvArrived(Request request)
    {
        if (candidate.Contains(request))
        {
            if (!candidateHeld) Queues.ArrivedStaged(request);
            staged.Add(request);
        }
        else Queues.KvArrived(request);
    }

    public override string ToString() =>
        $"aligned: pool {pool.Count}, incoming {incoming.Count}, candidate {candidate.Count} (staged {staged.Count}), running {Queues.Running.Count}, arriving {Queues.Arriving.Count}, local waiting {Queues.Waiting.Count}, batch size {batchSize}";

    private bool Starved(Request request, long nowNs) => nowNs - pooled[request].PooledNs > guardNs;

    /// <summary>k_min as a strict floor (<see cref="AlignedOptions.KMinStrict"/>): wait for k_min pooled requests unless one is starved.</summary>
    private bool EnoughToForm(long nowNs) => !options.KMinStrict || pool.Count >= options.KMin || Starved(fifo.First!.Value, nowNs);

    /// <summary>The KV a request counts for under b_max (<see cref="AlignedOptions.BMaxCounts"/>).</summary>
    private long Counted(Request r) => options.BMaxCounts == BMaxCounts.WithGrowth ? r.MaxKvTokens : r.ComputedTokens + 1;

    /// <summary>
    /// Starvation guard (the candidate batch's part is in <see cref="Decide"/>: a candidate batch whose longest-pooled member
    /// is starved switches in as soon as it is staged): requests pooled longer than the bound join the running batch, oldest first, while its KV (running and
    /// joining members, as b_max counts it) stays under b_max, or nothing runs, and their blocks fit. One that does not fit
    /// stops the rest (oldest first); it is first in the next batch (<see cref="FormCandidateBatch"/>).
    /// </summary>
    private void AdmitStarved(long nowNs)
    {
        if (fifo.First is not { } head || !Starved(head.Value, nowNs)) return;
        long tokens = 0;
        foreach (var r in Queues.Running) tokens += Counted(r);
        foreach (var r in Queues.Arriving) if (!candidate.Contains(r)) tokens += Counted(r);
        var seats = Queues.Running.Count + Joining();
        while (fifo.First is { } node && Starved(node.Value, nowNs))
        {
            var r = node.Value;
            var length = r.ComputedTokens + 1;
            if ((tokens > 0 && tokens + Counted(r) > batchTokenCap) || seats >= options.MaxNumSeqs || !Queues.Blocks.CanReserve(r, length)) break;
            TakeFromPool(r);
            Queues.Pull(r, length, Batch, options.PrefetchPath == PrefetchPath.GpuPrefetch);
            tokens += Counted(r);
            seats++;
        }
    }

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
        // On the prefill GPU, leave it one prefill pass's blocks for its own prompts. When nothing fits there and nothing runs
        // or arrives here (another decode GPU's batch holds that buffer, or a request is larger than it), stage here instead.
        candidateHeld = stagingArea is not null;
        if (candidateHeld) Pick(nowNs, stagingArea!.FreeBlocks - stagingArea.BlocksFor(options.PrefillTokenBudget));
        if (!candidateHeld || (picked.Count == 0 && Queues.Idle))
        {
            candidateHeld = false;
            Pick(nowNs, Queues.Blocks.FreeBlocks);
        }

        candidatePooledNs = long.MaxValue;
        foreach (var r in picked)
        {
            candidatePooledNs = Math.Min(candidatePooledNs, pooled[r].PooledNs);
            TakeFromPool(r);
            candidate.Add(r);
            if (candidateHeld)
            {
                stagingArea!.Reserve(r, r.ComputedTokens + 1);
                Batch.Pulls.Add(new KvPull(r, HoldOnPrefillGpu: true));
            }
            else Queues.Pull(r, r.ComputedTokens + 1, Batch, options.PrefetchPath == PrefetchPath.GpuPrefetch);
        }
        return picked.Count > 0;
    }

    /// <summary>Picks the next batch into <see cref="picked"/> within <paramref name="freeBlocks"/>, b_max and the seat limit.</summary>
    private void Pick(long nowNs, int freeBlocks)
    {
        picked.Clear();
        long tokens = 0;
        bool TryPick(Request r)
        {
            var need = r.ComputedTokens + 1;
            var counted = Counted(r);
            var blocks = Queues.Blocks.BlocksFor(need);
            if (picked.Count >= options.MaxNumSeqs || (tokens + counted > batchTokenCap && picked.Count > 0) || blocks > freeBlocks) return false;
            picked.Add(r);
            tokens += counted;
            freeBlocks -= blocks;
            return true;
        }

        // Starvation guard: requests pooled too long go first, oldest first.
        foreach (var r in fifo)
            if (Starved(r, nowNs)) { if (!TryPick(r)) break; }
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
    }

    /// <summary>The staged candidate batch starts running beside what is left of the current one.</summary>
    private void SwitchBatches()
    {
        previousBatch.Clear();
        foreach (var r in Queues.Running) previousBatch.Add(r);
        if (candidateHeld) movingIn.AddRange(staged);
        else foreach (var r in staged) Queues.Run(r);
        batchSize = Queues.Running.Count + movingIn.Count;
        candidate.Clear();
        staged.Clear();
        Batch.BringsNewBatch = true;
        MoveIn();
    }

    /// <summary>
    /// The switched-in batch's KV comes over NVLink from the prefill GPU as this GPU's blocks allow, in batch order
    /// (the drained batch's members free theirs as they finish); each joins the running batch when it lands.
    /// </summary>
    private void MoveIn()
    {
        var moved = 0;
        foreach (var r in movingIn)
        {
            if (!Queues.Blocks.CanReserve(r, r.ComputedTokens + 1)) break;
            Queues.Pull(r, r.ComputedTokens + 1, Batch);
            moved++;
        }
        movingIn.RemoveRange(0, moved);
    }

    /// <summary>Requests on their way into the running batch (pulled, or switched in and still on the prefill GPU); not the candidate batch.</summary>
    private int Joining() => Queues.Arriving.Count + movingIn.Count - (candidateHeld ? 0 : candidate.Count - staged.Count);

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
        var joining = Joining();
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
