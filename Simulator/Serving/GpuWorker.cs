using System.Diagnostics;
using Policies.Core;
using Policies.Memory;
using Simulator.Engine;
using Simulator.Metrics;

namespace Simulator.Serving;

/// <summary>
/// One GPU's serving loop: ask the policy for a batch, start the KV pulls it asks for, hold the
/// GPU for the backend's time (predicted by the cost model, or measured on a device), apply the batch's tokens, hand finished prefills on. The GPU
/// sleeps when nothing can run and wakes on an arrival, a KV arrival or freed memory.
/// </summary>
public sealed class GpuWorker
{
    private readonly Simulation sim;
    private readonly IServingBackend backend;
    private readonly MetricsRecorder metrics;
    private readonly Cluster cluster;
    private SimEvent? wake;
    /// <summary>This GPU's standing batch, reused (null when the backend runs none).</summary>
    private readonly StandingDecode? standing;

    /// <summary>Standing batches shorter than this are not worth starting (starting one walks the batch once).</summary>
    private const int MinimumStandingPasses = 2;

    /// <summary>Something outside the loop changed what the policy holds since the loop last looked (every such change wakes the GPU).</summary>
    private bool touched;
    private Engine.Timeout? passEnd;

    public GpuWorker(Simulation sim, GpuRecord record, GpuRole role, IBatchPolicy policy, KvBlockManager blocks,
        IServingBackend backend, MetricsRecorder metrics, Cluster cluster)
    {
        this.sim = sim;
        Record = record;
        Role = role;
        Policy = policy;
        Blocks = blocks;
        this.backend = backend;
        this.metrics = metrics;
        this.cluster = cluster;
        standing = backend.StandingFor(this);
        sim.Process(Loop());
    }

    public GpuRecord Record { get; }

    /// <summary>The GPU's name in transfer records (gpu0, gpu1, ...), formatted once.</summary>
    public string Name => name ??= $"gpu{Record.Gpu}";

    private string? name;

    public GpuRole Role { get; }

    public IBatchPolicy Policy { get; }

    public KvBlockManager Blocks { get; }

    /// <summary>Requests this GPU holds or will hold: queued, running or being pulled in.</summary>
    public int Outstanding => Policy.WaitingCount + Policy.RunningCount + Policy.ArrivingCount;

    public bool AcceptsArrivals => Role != GpuRole.Decode;

    public void Wake()
    {
        touched = true;
        if (wake is { IsTriggered: false }) wake.Succeed();
    }

    private IEnumerable<SimEvent> Loop()
    {
        while (true)
        {
            if (standing is { Active: true } stand)
            {
                if (!touched && stand.CanRunNext(Blocks) && sim.Now < Policy.RepeatUntilNs)
                {
                    // A pass of the standing batch: the policy's own decision again, without asking it (so no decision time is recorded).
                    stand.ReserveCrossings(Blocks);
                    var standingCost = backend.ForwardStanding(this, stand);
                    var standingStart = sim.Now;
                    yield return sim.Timeout(ref passEnd, standingCost.DurationNs);
                    metrics.IterationDone(Record.Gpu, standingStart, standingCost, stand.Count, 0, stand.Count, stand.TotalTokens, stand.LongestTokens,
                        Blocks.UsedBlocks, Policy.WaitingCount, 0, stand.IsBatchSwitch);
                    stand.PassDone();
                    metrics.StandingPassDone();
                    continue;
                }
                stand.Exit(metrics, Blocks);
            }
            touched = false;
            var decisionStart = Stopwatch.GetTimestamp();
            var batch = Policy.Schedule(sim.Now);
            metrics.SchedulingTook(Stopwatch.GetTimestamp() - decisionStart);
            foreach (var victim in batch.SwapOuts) cluster.SwapOut(victim, this);
            foreach (var pull in batch.Pulls) cluster.Pull(pull, this);
            if (batch.IsEmpty)
            {
                if (metrics.AllFinished) yield break;
                // A decision that only preempted changed what can run: ask again rather than sleep.
                if (batch.Preempted.Count > 0) continue;
                if (Policy.RunningCount > 0)
                    throw new InvalidOperationException($"GPU {Record.Gpu}: the policy scheduled nothing while {Policy.RunningCount} requests run (t={sim.Now} ns).");
                var idleSince = sim.Now;
                var waitingForKv = Policy.ArrivingCount > 0;
                wake = sim.Event();
                yield return wake;
                metrics.Idle(Record.Gpu, idleSince, sim.Now, waitingForKv);
                continue;
            }
            var cost = backend.Forward(this, batch);
            var start = sim.Now;
            // One timeout per GPU, restarted each pass: no allocation per pass.
            yield return sim.Timeout(ref passEnd, cost.DurationNs);
            for (var i = 0; i < batch.Entries.Count; i++)
            {
                var entry = batch.Entries[i];
                if (entry.Request.Advance(entry.NewTokens) && metrics.TokenEmitted(entry.Request, sim.Now))
                    cluster.Finished(this);
            }
            metrics.IterationDone(Record.Gpu, start, batch, cost, Blocks.UsedBlocks, Policy.WaitingCount);
            Policy.Complete(batch);
            if (Role == GpuRole.Prefill)
                foreach (var request in Policy.TakeHandoffs()) cluster.HandOff(request, this);
            // Nothing reached the policy during the pass and it will repeat this batch: run it standing from here.
            else if (standing is not null && !touched && Policy.RepeatablePasses(batch) is > 0 and var repeatable)
                standing.Start(batch, Blocks, repeatable, MinimumStandingPasses, backend.StandingShapeFor);
        }
    }
}
