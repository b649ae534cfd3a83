using System.ComponentModel.DataAnnotations;
using Simulator.CostModel;
using Simulator.Serving;
using Simulator.Specs;
using Simulator.Workload;

namespace Simulator.Config;

/// <summary>
/// One experiment file. <c>model</c> and <c>node</c> name catalog entries (and may override
/// their fields); everything else has defaults except the workload and the policy.
/// </summary>
/// <param name="Name">Experiment name; results go to results/&lt;name&gt;/.</param>
/// <param name="Seed">Root of every random stream: same config and seed, byte-identical results.</param>
/// <param name="MaxRequests">Keep only the first N requests (by arrival) of whatever the workload produced: quick versions of long runs and sweeps (<c>--set max_requests=200</c>).</param>
public sealed record ExperimentConfig(
    string Name,
    [Catalog("models")] ModelSpec Model,
    [Catalog("hardware/nodes")] NodeSpec Node,
    WorkloadConfig Workload,
    PolicyConfig Policy,
    EngineConfig Engine,
    CostModelConfig CostModel,
    DeploymentConfig Deployment,
    Metrics.MetricsConfig Metrics,
    [Range(0, long.MaxValue)] long Seed = 0,
    [Range(1, 100_000_000)] int? MaxRequests = null) : IValidatedConfig
{
    public IEnumerable<(string Field, string Problem)> Validate()
    {
        if (Name.Length == 0 || Name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
            yield return ("name", $"'{Name}' is not a usable folder name; use letters, digits, '-', '_' or '.'");
        foreach (var (field, problem) in Deployment.Check(Node.GpuCount)) yield return ($"deployment.{field}", problem);
        var roles = Deployment.Roles();
        if (Policy.Descriptor.NeedsDisaggregation && (!roles.Contains(Policies.Core.GpuRole.Prefill) || roles.Contains(Policies.Core.GpuRole.Colocated)))
            yield return ("policy.name", $"{Policy.Name} needs prefill and decode GPUs and no colocated ones: set deployment.gpus, e.g. [{{ role: prefill, count: 4 }}, {{ role: decode, count: 4 }}]");
        if (Policy.Descriptor.NeedsHostPool && Deployment.Handoff != KvHandoff.HostPool)
            yield return ("deployment.handoff", $"{Policy.Name} keeps prefilled KV in the host KV pool: set deployment.handoff: host_pool");
        if (CostModel.Calibration is null && KernelWithoutRates() is { } kernel)
            yield return ("cost_model.attention_kernel",
                $"{ConfigNames.EnumName(kernel)} (the kernel {(CostModel.AttentionKernel == AttentionKernel.Auto ? $"{Policy.Name}'s engine uses" : "chosen")}) "
                + $"has no rates for gpu '{Node.Gpu.Name}': add attention_kernels to its catalog entry, or set cost_model.attention_kernel: per_head");
    }

    /// <summary>The kernel family this run may launch that its GPU has no rates for (auto: both of vLLM's, v1 and v2).</summary>
    private AttentionKernel? KernelWithoutRates()
    {
        var kernel = CostModel.AttentionKernel == AttentionKernel.Auto ? EngineProfile.For(Policy.Name).Kernel : CostModel.AttentionKernel;
        if (kernel == AttentionKernel.Auto) kernel = AttentionKernel.PagedV1;
        return AttentionLaunch.HasRates(Node.Gpu, kernel) ? null : kernel;
    }
}
