using Policies.Core;
using Simulator.Config;
using Simulator.CostModel;
using Simulator.Workload;

namespace Simulator.Serving;

/// <summary>
/// <c>deployment.split: auto</c>: the prefill:decode split of a node's GPUs that balances the workload's prefill and decode
/// work as the cost model prices them. Prefill work: the workload's prompts packed FCFS into passes of at most the prefill
/// token budget (8,192 tokens, aligned's and DistServe's default) and priced pass by pass. Decode work: every output token after
/// the first at the per-token cost of a representative decode pass: as many requests as one GPU's KV holds at the workload's
/// mean context (prompt plus half the output), at most 256 (vLLM's max_num_seqs), each at that mean context. The split gives
/// prefill GPUs the share of the listed GPUs that prefill work has of the total, rounded, at least one of each. A named estimate:
/// it ignores queueing, transfers and the policy's own batch caps (aligned's b_max); sweep <c>deployment.split</c> to see them.
/// </summary>
public static class SplitPlanner
{
    private const int PrefillBudgetTokens = 8192;
    private const int MaxDecodeBatch = 256;
    private const int SampleRequests = 2000;

    /// <summary>The config with its split (auto, or "P:D") written into explicit groups, as config.resolved.yaml shows it; any other config unchanged.</summary>
    public static ExperimentConfig Resolve(ExperimentConfig config, IReadOnlyList<RequestSpec> requests, MemoryPlan memory,
        Calibration.CalibrationTables? calibration)
    {
        if (config.Deployment.FixedSplit() is ({ } p, { } d))
            return config with { Deployment = config.Deployment with { Gpus = [new GpuGroup(GpuRole.Prefill, p), new GpuGroup(GpuRole.Decode, d)] } };
        if (config.Deployment.Split != DeploymentConfig.AutoSplit) return config;
        var gpus = config.Deployment.Roles().Count;
        var (prefillS, decodeS) = Work(config, requests, memory, calibration);
        var prefill = Math.Clamp((int)Math.Round(gpus * prefillS / (prefillS + decodeS)), 1, gpus - 1);
        return config with
        {
            Deployment = config.Deployment with { Gpus = [new GpuGroup(GpuRole.Prefill, prefill), new GpuGroup(GpuRole.Decode, gpus - prefill)] },
        };
    }

    /// <summary>Seconds of prefill and of decode work the workload's first requests (up to 2,000) ask of one GPU.</summary>
    public static (double PrefillS, double DecodeS) Work(ExperimentConfig config, IReadOnlyList<RequestSpec> requests, MemoryPlan memory,
        Calibration.CalibrationTables? calibration)
    {
        var cost = new ForwardCostModel(config.Model, config.Node.Gpu, config.CostModel, calibration, EngineProfile.For(config.Policy.Name));
        var sample = requests.Take(SampleRequests).ToList();
        double prefillNs = 0;
        var batch = new ForwardBatch();
        var tokens = 0;
        foreach (var spec in sample)
        {
            if (tokens > 0 && tokens + spec.PromptTokens > PrefillBudgetTokens)
            {
                prefillNs += cost.Estimate(batch).DurationNs;
                batch.Clear();
                tokens = 0;
            }
            batch.Add(new Request(spec.Id, spec.PromptTokens, spec.OutputTokens), spec.PromptTokens);
            tokens += spec.PromptTokens;
        }
        if (!batch.IsEmpty) prefillNs += cost.Estimate(batch).DurationNs;

        var meanContext = Math.Max(1, (int)sample.Average(r => r.PromptTokens + r.OutputTokens / 2.0));
        var size = (int)Math.Clamp(memory.KvCapacityTokens / meanContext, 1, MaxDecodeBatch);
        batch.Clear();
        for (var i = 0; i < size; i++) batch.Add(Request.Prefilled(i, meanContext, meanContext + 2), 1);
        var perTokenNs = cost.Estimate(batch).DurationNs / (double)size;
        var decodeTokens = sample.Sum(r => (double)Math.Max(0, r.OutputTokens - 1));
        return (prefillNs / 1e9, decodeTokens * perTokenNs / 1e9);
    }
}
