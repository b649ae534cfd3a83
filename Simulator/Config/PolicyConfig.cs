using Policies;

namespace Simulator.Config;

/// <summary>
/// <c>policy: { name: vllm, max_num_seqs: 128 }</c>: the registered policy name and its options
/// record (the other keys), bound by <see cref="ConfigBinder"/> against that policy's own type.
/// </summary>
public sealed record PolicyConfig(string Name, object Options)
{
    public PolicyDescriptor Descriptor => PolicyRegistry.Find(Name)
        ?? throw new InvalidOperationException($"Policy '{Name}' is not registered.");
}
