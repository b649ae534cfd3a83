using Policies.Core;
using Policies.Vllm;

namespace Policies;

/// <summary>A policy as the YAML names it: its options record type and how to build it.</summary>
public sealed record PolicyDescriptor(
    string Name,
    string Summary,
    Type OptionsType,
    Func<object, PolicyContext, IBatchPolicy> Create)
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
        Describe<VllmOptions>("vllm", "FCFS continuous batching, paged KV, preemption by recompute (vLLM)",
            (o, ctx) => new VllmPolicy(o, ctx)),
    ];

    public static IEnumerable<string> Names => All.Select(p => p.Name);

    public static PolicyDescriptor? Find(string name) => All.FirstOrDefault(p => p.Name == name);

    private static PolicyDescriptor Describe<TOptions>(string name, string summary, Func<TOptions, PolicyContext, IBatchPolicy> create)
        where TOptions : class =>
        new(name, summary, typeof(TOptions), (options, context) => create((TOptions)options, context));
}
