using Policies.Memory;

namespace Policies.Core;

/// <summary>
/// The request bookkeeping every policy on one GPU shares (composition, not a base class):
/// new arrivals waiting FCFS, prefilled requests waiting to be pulled in, requests being
/// pulled, running requests in admission order, and finished prefills to hand off. Policies
/// decide what moves between these; the moves themselves live here once.
/// </summary>
public sealed class GpuQueues(PolicyContext context)
{
    private readonly List<Request> handoffsOut = [];

    public KvBlockManager Blocks { get; } = context.Blocks;

    public GpuRole Role { get; } = context.Role;

    public LinkedList<Request> Waiting { get; } = new();

    public LinkedList<Request> Remote { get; } = new();

    public List<Request> Running { get; } = [];

    public HashSet<Request> Arriving { get; } = new(ReferenceEqualityComparer.Instance);

    public List<Request> Handoffs { get; } = [];

    /// <summary>Requests swapped out whose copy to host memory is still running.</summary>
    public int SwappingOut { get; private set; }

    /// <summary>How many times <see cref="Running"/> has changed (a request admitted, started, preempted or gone): equal counts, the same list.</summary>
    public long RunningChanges { get; private set; }

    /// <summary>Running plus arriving: the requests holding seats on this GPU.</summary>
    public int Seated => Running.Count + Arriving.Count;

    public bool Idle => Running.Count == 0 && Arriving.Count == 0;

    /// <summary>Admits a waiting request: reserve <paramref name="reserveTokens"/> of KV, run <paramref name="newTokens"/> of it now.</summary>
    public void Admit(Request request, int reserveTokens, int newTokens, ForwardBatch batch)
    {
        Blocks.Reserve(request, reserveTokens);
        request.Phase = RequestPhase.Running;
        Running.Add(request);
        RunningChanges++;
        batch.Add(request, newTokens);
    }

    /// <summary>Starts pulling a prefilled request in: reserve <paramref name="reserveTokens"/> here and list it as a pull.</summary>
    public void Pull(Request request, int reserveTokens, ForwardBatch batch, bool stageOnPrefillGpu = false)
    {
        Blocks.Reserve(request, reserveTokens);
        Arriving.Add(request);
        batch.Pulls.Add(new KvPull(request, stageOnPrefillGpu));
    }

    /// <summary>A pulled request's KV arrived but it waits (staged) instead of running; see <see cref="Run"/>.</summary>
    public void ArrivedStaged(Request request)
    {
        if (!Arriving.Remove(request)) throw new InvalidOperationException($"Request {request.Id} was not being pulled in.");
    }

    /// <summary>Starts running a staged request.</summary>
    public void Run(Request request)
    {
        request.Phase = RequestPhase.Running;
        Running.Add(request);
        RunningChanges++;
    }

    public void KvArrived(Request request)
    {
        ArrivedStaged(request);
        Run(request);
    }

    /// <summary>Frees finished requests and, on a prefill GPU, moves finished prefills to the handoff list.</summary>
    public void Complete(ForwardBatch completed)
    {
        var prefillRole = Role == GpuRole.Prefill;
        for (var i = 0; i < completed.Entries.Count; i++)
        {
            var request = completed.Entries[i].Request;
            if (request.Phase == RequestPhase.Finished) Blocks.Free(request);
            else if (prefillRole && !request.InPrefill) Handoffs.Add(request);
        }
        var kept = 0;
        for (var i = 0; i < Running.Count; i++)
        {
            var request = Running[i];
            if (request.Phase != RequestPhase.Finished && !(prefillRole && !request.InPrefill)) Running[kept++] = request;
        }
        if (kept == Running.Count) return;
        Running.RemoveRange(kept, Running.Count - kept);
        RunningChanges++;
    }

    public IReadOnlyList<Request> TakeHandoffs()
    {
        handoffsOut.Clear();
        handoffsOut.AddRange(Handoffs);
        Handoffs.Clear();
        return handoffsOut;
    }

    /// <summary>
    /// Preemption by recompute (drop the request's KV, queue it first among the waiting) or by swap
    /// (its KV goes to host memory; once there, it waits first among the prefilled requests, to be pulled back).
    /// </summary>
    public void Preempt(Request victim, ForwardBatch batch, bool swap = false)
    {
        Running.RemoveAt(Running.LastIndexOf(victim));
        RunningChanges++;
        // A swap's copy reads the blocks after this decision freed them: name them while they are still its.
        var held = swap && Blocks.TracksIds ? Blocks.BlocksOf(victim).ToArray() : null;
        Blocks.Free(victim);
        batch.Preempted.Add(victim);
        if (swap)
        {
            victim.SwapOut();
            SwappingOut++;
            batch.SwapOuts.Add(new SwapOut(victim, held));
        }
        else
        {
            victim.ResetForRecompute();
            Waiting.AddFirst(victim);
        }
    }

    /// <summary>
    /// True when <paramref name="completed"/> was a pure decode pass of exactly the running requests, in
    /// order (one token each, nothing pulled, preempted or swapped), none of which finished or left in it,
    /// and all of which still decode. What a policy must add for <see cref="IRepeatableSchedule.RepeatablePasses"/>
    /// is why its next decision cannot differ.
    /// </summary>
    public bool RanAllRunningAsDecodes(ForwardBatch completed)
    {
        if (Role == GpuRole.Prefill || completed.Pulls.Count > 0 || completed.Preempted.Count > 0 || completed.SwapOuts.Count > 0) return false;
        var entries = completed.Entries;
        if (entries.Count == 0 || entries.Count != Running.Count) return false;
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            // Running holds only running requests: the same request in the same place is still running.
            if (entry.NewTokens != 1 || !ReferenceEquals(entry.Request, Running[i]) || entry.Request.PendingTokens != 1) return false;
        }
        return true;
    }

    /// <summary>
    /// The first-come first-served policies' wider form of <see cref="RanAllRunningAsDecodes"/>: true when <paramref name="completed"/>
    /// was a pure decode pass (one token each, nothing preempted or swapped) of every request running after its decision, in order,
    /// where the members that finished in it have left <see cref="Running"/> and the others (the <paramref name="survivors"/>, at
    /// least one) still decode and lead it. What it allows that the strict form does not, each because an FCFS decision cannot see it:
    /// <list type="bullet">
    /// <item>Pulls started in the pass: <c>Fcfs.PullRemote</c> stopped at the first prefilled request that did not fit or at the seat
    /// limit (the pulled requests hold their seats while they arrive), and neither changes while free blocks only shrink.</item>
    /// <item>Members that finished, only when nothing waits (no new or recomputed prompt, no prefilled request): the blocks and the
    /// seat a finish frees change what can be admitted or pulled, and with nothing to admit or pull the next decision is the
    /// running requests again.</item>
    /// <item>Requests appended to <see cref="Running"/> after the decision (their KV arrived during the pass): they follow the
    /// survivors, and are the next decision's joiners, not part of the repeat. <paramref name="changesSinceDecision"/> (of
    /// <see cref="RunningChanges"/>) tells them from a request the decision left out: it must count exactly those appends and
    /// the finished members' removal.</item>
    /// </list>
    /// Anything that reaches the policy later (a prefilled request, its KV, a swap-out's end) is for the driver to bring to it.
    /// </summary>
    public bool RanAllRunningAsDecodesOrFinished(ForwardBatch completed, long changesSinceDecision, out int survivors)
    {
        survivors = 0;
        if (Role == GpuRole.Prefill || completed.Preempted.Count > 0 || completed.SwapOuts.Count > 0) return false;
        var entries = completed.Entries;
        var nothingWaits = Waiting.Count == 0 && Remote.Count == 0;
        var finished = false;
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            if (entry.NewTokens != 1) return false;
            if (entry.Request.Phase == RequestPhase.Finished)
            {
                if (!nothingWaits) return false;
                finished = true;
                continue;
            }
            if (survivors >= Running.Count || !ReferenceEquals(entry.Request, Running[survivors]) || entry.Request.PendingTokens != 1) return false;
            survivors++;
        }
        return survivors > 0 && changesSinceDecision == Running.Count - survivors + (finished ? 1 : 0);
    }

    /// <summary>A swap-out's copy to host memory finished.</summary>
    public void EndSwapOut() => SwappingOut--;

    /// <summary>Blocks to keep free when admitting, unless nothing else holds the GPU (then a request must be able to start).</summary>
    public int KeepFree(int watermarkBlocks, ForwardBatch batch) => Idle && batch.IsEmpty ? 0 : watermarkBlocks;
}
