using Policies.Aligned;
using Policies.Core;
using Policies.DistServe;
using Policies.FastGen;
using Policies.Orca;
using Policies.Sarathi;
using Policies.Vllm;

namespace Policies;

/// <summary>A policy as the YAML names it: its options record type and how to build it.</summary>
/// <param name="NeedsDisaggregation">True when the policy only makes sense with prefill and decode GPUs.</param>
/// <param name="NeedsHostPool">True when prefilled KV must go through the host KV pool.</param>
/// <param name="Swaps">True when, with these options, the policy swaps whole requests' KV to host memory.</param>
public sealed record PolicyDescriptor(
    string Name,
    string Summary,
    Type OptionsType,
    Func<object, PolicyContext, IBatchPolicy> Create,
    bool NeedsDisaggregation = false,
    bool NeedsHostPool = false,
    Func<object, bool>? Swaps = null)
{
    public object DefaultOptions() => Activator.CreateInstance(OptionsType, CtorDefaults(OptionsType))!;

    private static object?[] CtorDefaults(Type type) =>
        type.GetConstructors().Single().GetParameters().Select(p => p.DefaultValue).ToArray();
}

/// <summary>The one map from YAML policy names to policies. Adding a policy adds one line here.</summary>
public static class PolicyRegistry
{
    public static IReadOnlyList<PolicyDescriptor> All { get; } =
    [
        Describe<VllmOptions>("vllm", "FCFS continuous batching, paged KV, preemption by recompute or swap (vLLM)",
            (o, ctx) => new VllmPolicy(o, ctx)) with { Swaps = o => ((VllmOptions)o).Preemption == Preemption.Swap },
        Describe<OrcaOptions>("orca", "iteration-level scheduling, KV reserved for the maximum length at admission (Orca)",
            (o, ctx) => new OrcaPolicy(o, ctx)),
        Describe<SarathiOptions>("sarathi", "stall-free hybrid batches, one chunked prefill under a token budget (Sarathi-Serve)",
            (o, ctx) => new SarathiPolicy(o, ctx)),
        Describe<FastGenOptions>("fastgen", "Dynamic SplitFuse: fixed token budget, long prompts split, short fused (DeepSpeed-FastGen)",
            (o, ctx) => new FastGenPolicy(o, ctx)),
        Describe<DistServeOptions>("distserve", "prefill and decode GPUs, KV moved after prefill, FCFS decode (DistServe)",
            (o, ctx) => new DistServePolicy(o, ctx), needsDisaggregation: true),
        Describe<AlignedOptions>("aligned", "prefix-aware batching from a host KV pool, batch-level scheduling, GPU prefetch (AlignedServe)",
            (o, ctx) => new AlignedPolicy(o, ctx), needsDisaggregation: true, needsHostPool: true)
            with { Swaps = o => ((AlignedOptions)o).Preemption == Preemption.Swap },
    ];

    public static IEnumerable<string> Names => All.Select(p => p.Name);

    public static PolicyDescriptor? Find(string name) => All.FirstOrDefault(p => p.Name == name);

    private static PolicyDescriptor Describe<TOptions>(string name, string summary, Func<TOptions, PolicyContext, IBatchPolicy> create,
        bool needsDisaggregation = false, bool needsHostPool = false)
        where TOptions : class =>
        new(name, summary, typeof(TOptions), (options, context) => create((TOptions)options, context), needsDisaggregation, needsHostPool);
}
