using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Policies.Core;
using Policies.Memory;
using Simulator.CostModel;
using Simulator.Engine;
using Simulator.Metrics;

namespace Simulator.Serving;

/// <summary>
/// What one step of a GPU's serving loop sends out, for the cluster to route: after a decision, the requests to swap out
/// and the KV to pull in; after a pass, how many requests finished and the prefilled requests to hand on. The lists are
/// the policy's own (valid until its next call), so a step allocates nothing.
/// </summary>
public readonly record struct Outgoing(IReadOnlyList<SwapOut> SwapOuts, IReadOnlyList<KvPull> Pulls, int Finished, IReadOnlyList<Request> Handoffs)
{
    public static Outgoing Decided(ForwardBatch batch) => new(batch.SwapOuts, batch.Pulls, 0, []);

    public static Outgoing Passed(int finished, IReadOnlyList<Request> handoffs) => new([], [], finished, handoffs);
}

/// <summary>One step of a GPU's serving loop: an event to wait for, or (<see cref="Wait"/> null) what it sends out.</summary>
public readonly record struct LoopStep(SimEvent? Wait, Outgoing Sent);

/// <summary>
/// One GPU's serving loop: ask the policy for a batch, send out the KV pulls and swap-outs it asks for, hold the
/// GPU for the backend's time (predicted by the cost model, or measured on a device), apply the batch's tokens, send
/// finished prefills on. The GPU sleeps when nothing can run and wakes when something reaches its policy.
/// <para>The worker is the only way into its policy: <see cref="Enqueue"/>, <see cref="EnqueuePrefilled"/>,
/// <see cref="KvArrived"/>, <see cref="Release"/> and <see cref="SwappedOut"/> change it and wake the GPU (a standing batch
/// then ends, unless the policy's decision is that batch again beside the KV it pulls in), so no caller can forget to. It knows nothing of the cluster: <see cref="Run"/> yields what each step
/// sends out (<see cref="Outgoing"/>), and the cluster routes it, as a discrete-event simulator's events return their
/// follow-up events.</para>
/// </summary>
public sealed class GpuWorker
{
    private readonly Simulation sim;
    private readonly IServingBackend backend;
    private readonly MetricsRecorder metrics;
    private readonly ServingProgress progress;
    private readonly IBatchPolicy policy;
    private SimEvent? wake;
    /// <summary>This GPU's standing batches (null when it can have none).</summary>
    private readonly StandingBatches? standing;

    /// <summary>Something outside the loop changed what the policy holds since the loop last looked (every such change wakes the GPU).</summary>
    private bool touched;
    private Engine.Timeout? passEnd;

    public GpuWorker(Simulation sim, GpuRecord record, IBatchPolicy policy, KvBlockManager blocks,
        IServingBackend backend, MetricsRecorder metrics, ServingProgress progress)
    {
        this.sim = sim;
        Record = record;
        this.policy = policy;
        Blocks = blocks;
        this.backend = backend;
        this.metrics = metrics;
        this.progress = progress;
        standing = StandingBatches.For(record.Gpu, record.Role, policy, blocks, backend.StandingCostsFor(Memory), metrics);
    }

    public GpuRecord Record { get; }

    /// <summary>The GPU's name in transfer records (gpu0, gpu1, ...), formatted once.</summary>
    public string Name => name ??= $"gpu{Record.Gpu}";

    private string? name;

    public GpuRole Role => Record.Role;

    public KvBlockManager Blocks { get; }

    /// <summary>What the backend needs of this instance: its index, its blocks and its GPUs.</summary>
    public GpuMemory Memory => new(Record.Gpu, Blocks, Record.Tp);

    /// <summary>Requests this GPU holds or will hold: queued, running or being pulled in.</summary>
    public int Outstanding => policy.WaitingCount + policy.RunningCount + policy.ArrivingCount;

    public bool AcceptsArrivals => Role != GpuRole.Decode;

    /// <summary>A new request arrives here.</summary>
    public void Enqueue(Request request)
    {
        policy.Enqueue(request);
        Wake();
    }

    /// <summary>A request prefilled elsewhere arrives to decode here; its KV is still where it was.</summary>
    public void EnqueuePrefilled(Request request)
    {
        policy.EnqueuePrefilled(request);
        Wake();
    }

    /// <summary>Lends the policy another instance's KV blocks to stage requests in (AlignedServe's candidate buffers in the paired prefill GPU's HBM).</summary>
    public void UseStagingArea(KvBlockManager area) => policy.UseStagingArea(area);

    /// <summary>A pulled request's KV has landed here.</summary>
    public void KvArrived(Request request)
    {
        policy.KvArrived(request);
        Wake();
    }

    /// <summary>A handed-off request's KV has been copied away from here.</summary>
    public void Release(Request request)
    {
        policy.Release(request);
        Wake();
    }

    /// <summary>A request this GPU swapped out now has its KV in host memory.</summary>
    public void SwappedOut(Request request)
    {
        policy.SwappedOut(request);
        Wake();
    }

    private void Wake()
    {
        touched = true;
        if (wake is { IsTriggered: false }) wake.Succeed();
    }

    /// <summary>What the GPU holds, for diagnosing a run that stopped early.</summary>
    public string Describe() =>
        $"gpu{Record.Gpu} {Role}: waiting {policy.WaitingCount}, running {policy.RunningCount}, arriving {policy.ArrivingCount}, free blocks {Blocks.FreeBlocks}/{Blocks.TotalBlocks} ({policy})";

    /// <summary>The serving loop: the events it waits for, and what it sends out after each decision and pass.</summary>
    public IEnumerable<LoopStep> Run()
    {
        while (true)
        {
            if (touched && standing is { Active: true })
            {
                // Something reached the policy while a batch stands: the policy's decision is the batch again and its pulls, or the batch ends.
                touched = false;
                var besideStart = Stopwatch.GetTimestamp();
                var beside = standing.DecideBeside(sim.Now);
                if (beside is null) continue;
                metrics.SchedulingTook(Stopwatch.GetTimestamp() - besideStart);
                if (beside.Pulls.Count > 0) yield return new LoopStep(null, Outgoing.Decided(beside));
                continue;
            }
            ForwardBatch batch;
            IterationCost cost;
            long start;
            if (standing?.NextPass(sim.Now) is { } standingCost)
            {
                // A pass of the standing batch: the policy's own decision again, without asking it (so no decision time is recorded).
                start = sim.Now;
                yield return new LoopStep(sim.Timeout(ref passEnd, standingCost.DurationNs), default);
                // Members finished in it: the batch ends, and the pass is completed as the policy's batch, below.
                if (standing.PassDone(start, standingCost) is not { } formed) continue;
                (batch, cost) = (formed, standingCost);
            }
            else
            {
                touched = false;
                var decisionStart = Stopwatch.GetTimestamp();
                batch = policy.Schedule(sim.Now);
                metrics.SchedulingTook(Stopwatch.GetTimestamp() - decisionStart);
                if (batch.SwapOuts.Count > 0 || batch.Pulls.Count > 0) yield return new LoopStep(null, Outgoing.Decided(batch));
                if (batch.IsEmpty)
                {
                    if (progress.AllFinished) yield break;
                    // A decision that only preempted changed what can run: ask again rather than sleep.
                    if (batch.Preempted.Count > 0) continue;
                    if (policy.RunningCount > 0) ThrowIdleWhileRunning();
                    var idleSince = sim.Now;
                    var waitingForKv = policy.ArrivingCount > 0;
                    wake = sim.Event();
                    yield return new LoopStep(wake, default);
                    metrics.Idle(Record.Gpu, idleSince, sim.Now, waitingForKv);
                    continue;
                }
                cost = backend.Forward(Memory, batch);
                start = sim.Now;
                // One timeout per GPU, restarted each pass: no allocation per pass.
                yield return new LoopStep(sim.Timeout(ref passEnd, cost.DurationNs), default);
            }
            var sent = Completed(batch, cost, start);
            if (sent.Finished > 0 || sent.Handoffs.Count > 0) yield return new LoopStep(null, sent);
            // Nothing reached the policy during the pass and it will repeat this batch: run it standing from here.
            standing?.Offer(batch, touched);
        }
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowIdleWhileRunning() =>
        throw new InvalidOperationException($"GPU {Record.Gpu}: the policy scheduled nothing while {policy.RunningCount} requests run (t={sim.Now} ns).");

    /// <summary>
    /// A pass of <paramref name="batch"/> ran from <paramref name="start"/> to now: its requests get their tokens, it is recorded, the
    /// policy completes it; what it sends out is how many requests finished and the prefilled requests to hand on. (Out of the loop's
    /// iterator, whose every step would otherwise clear this work's locals too.)
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private Outgoing Completed(ForwardBatch batch, IterationCost cost, long start)
    {
        var finished = 0;
        for (var i = 0; i < batch.Entries.Count; i++)
        {
            var entry = batch.Entries[i];
            if (!entry.Request.Advance(entry.NewTokens)) continue;
            metrics.TokenEmitted(entry.Request, sim.Now);
            if (entry.Request.Phase == RequestPhase.Finished) finished++;
        }
        metrics.IterationDone(Record.Gpu, start, batch, cost, Blocks.UsedBlocks, policy.WaitingCount);
        policy.Complete(batch);
        return Outgoing.Passed(finished, Role == GpuRole.Prefill ? policy.TakeHandoffs() : []);
    }
}
