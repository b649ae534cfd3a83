using Policies.Core;
using Policies.Memory;
using Simulator.CostModel;
using Simulator.Engine;
using Simulator.Metrics;
using Simulator.Workload;

namespace Simulator.Serving;

/// <summary>
/// One GPU that runs prefill and decode together, driven by a batching policy: arrivals are
/// handed to the policy; the GPU loop asks the policy for a batch, holds the GPU for the cost
/// model's predicted time, then applies the batch's tokens. The GPU sleeps when the policy
/// has nothing runnable and wakes on the next arrival.
/// </summary>
public sealed class ColocatedServer
{
    private readonly Simulation sim;
    private readonly IBatchPolicy policy;
    private readonly KvBlockManager blocks;
    private readonly ForwardCostModel costModel;
    private readonly MetricsRecorder metrics;
    private readonly IReadOnlyList<RequestSpec> specs;
    private SimEvent? wake;

    public ColocatedServer(Simulation sim, IBatchPolicy policy, KvBlockManager blocks, ForwardCostModel costModel,
        MetricsRecorder metrics, IReadOnlyList<RequestSpec> specs)
    {
        this.sim = sim;
        this.policy = policy;
        this.blocks = blocks;
        this.costModel = costModel;
        this.metrics = metrics;
        this.specs = specs;
        Done = sim.Process(GpuLoop());
        sim.Process(Arrivals());
    }

    /// <summary>Succeeds when every request has finished.</summary>
    public Process Done { get; }

    private IEnumerable<SimEvent> Arrivals()
    {
        foreach (var spec in specs)
        {
            if (spec.ArrivalNs > sim.Now) yield return sim.Timeout(spec.ArrivalNs - sim.Now);
            policy.Enqueue(new Request(spec.Id, spec.PromptTokens, spec.OutputTokens));
            if (wake is { IsTriggered: false }) wake.Succeed();
        }
    }

    private IEnumerable<SimEvent> GpuLoop()
    {
        while (metrics.Finished < specs.Count)
        {
            var batch = policy.Schedule();
            if (batch.IsEmpty)
            {
                if (policy.RunningCount > 0)
                    throw new InvalidOperationException($"Policy scheduled nothing while {policy.RunningCount} requests run (t={sim.Now} ns).");
                wake = sim.Event();
                yield return wake;
                continue;
            }
            var cost = costModel.Estimate(batch);
            var start = sim.Now;
            yield return sim.Timeout(cost.DurationNs);
            for (var i = 0; i < batch.Entries.Count; i++)
            {
                var entry = batch.Entries[i];
                if (entry.Request.Advance(entry.NewTokens)) metrics.TokenEmitted(entry.Request, sim.Now);
            }
            metrics.IterationDone(start, batch, cost, blocks.UsedBlocks, policy.WaitingCount);
            policy.Complete(batch);
        }
    }
}
