using System.ComponentModel.DataAnnotations;
using Simulator.Config;
using Simulator.CostModel;
using Simulator.Serving;
using Simulator.Specs;
using Simulator.Workload;

namespace Simulator.Studies;

/// <summary>One arm of a comparison: a policy on a deployment, under a label for tables and plots.</summary>
public sealed record ComparisonVariant(string Label, PolicyConfig Policy, DeploymentConfig Deployment);

/// <summary>A workload under a label.</summary>
public sealed record ComparisonWorkload(string Label, WorkloadConfig Workload);

/// <summary>
/// <c>study: comparison</c>: every variant (policy + deployment) on every workload, with the
/// model, node, engine and cost model shared; one summary row per run, grouped bar charts of
/// decode throughput and P99 TPOT.
/// </summary>
/// <param name="MaxRequestsPerRun">Keep only the first N requests of each workload (quick runs); null keeps all.</param>
public sealed record ComparisonConfig(
    string Name,
    [Catalog("models")] ModelSpec Model,
    [Catalog("hardware/nodes")] NodeSpec Node,
    IReadOnlyList<ComparisonVariant> Variants,
    IReadOnlyList<ComparisonWorkload> Workloads,
    EngineConfig Engine,
    CostModelConfig CostModel,
    [Range(0, long.MaxValue)] long Seed = 0,
    [Range(1, 100_000_000)] int? MaxRequestsPerRun = null) : IValidatedConfig
{
    public IEnumerable<(string Field, string Problem)> Validate()
    {
        if (Variants.Count == 0) yield return ("variants", "expected at least one variant");
        if (Workloads.Count == 0) yield return ("workloads", "expected at least one workload");
        for (var i = 0; i < Variants.Count; i++)
        {
            var experiment = Experiment(Variants[i], Workloads.Count > 0 ? Workloads[0] : null);
            if (experiment is null) continue;
            foreach (var (field, problem) in experiment.Validate())
                yield return ($"variants[{i}].{field}", problem);
        }
    }

    /// <summary>The serving experiment of one (variant, workload) pair.</summary>
    public ExperimentConfig? Experiment(ComparisonVariant variant, ComparisonWorkload? workload) => workload is null
        ? null
        : new ExperimentConfig($"{Name}-{workload.Label}-{variant.Label}", Model, Node, workload.Workload, variant.Policy, Engine, CostModel,
            variant.Deployment, Seed);
}
