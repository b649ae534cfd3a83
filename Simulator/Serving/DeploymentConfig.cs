using System.ComponentModel.DataAnnotations;
using Policies.Core;

namespace Simulator.Serving;

/// <summary>Some GPUs of each node in one role.</summary>
public sealed record GpuGroup(GpuRole Role, [Range(1, 1024)] int Count);

/// <summary>How arrivals are spread over nodes.</summary>
public enum Router
{
    RoundRobin,

    /// <summary>To the node with the fewest unfinished requests (ties to the lowest index).</summary>
    LeastOutstanding,
}

/// <summary>How a prefill GPU's KV reaches a decode GPU.</summary>
public enum KvHandoff
{
    /// <summary>The decode GPU pulls it straight from the prefill GPU (NVLink, or through host memory without NVLink).</summary>
    Peer,

    /// <summary>Prefill GPU -> host KV pool over PCIe; the decode GPU pulls it from the pool over PCIe.</summary>
    HostPool,
}

/// <summary>
/// Where the work runs: <see cref="Nodes"/> identical nodes, each with GPUs in roles
/// (<c>gpus: [{ role: prefill, count: 4 }, { role: decode, count: 4 }]</c>). Decode GPU j is paired
/// with prefill GPU j mod P, which hands its requests to its paired decode GPUs. Leaving
/// <c>gpus</c> out means one colocated GPU per node.
/// </summary>
/// <param name="HostPoolGib">Host memory for the KV pool per node; default: the node's host memory.</param>
public sealed record DeploymentConfig(
    [Range(1, 100_000)] int Nodes = 1,
    IReadOnlyList<GpuGroup>? Gpus = null,
    Router Router = Router.LeastOutstanding,
    KvHandoff Handoff = KvHandoff.Peer,
    [Range(0.001, 1_000_000.0)] double? HostPoolGib = null)
{
    /// <summary>Roles of one node's GPUs, GPU index order: prefill, decode, colocated groups as listed.</summary>
    public IReadOnlyList<GpuRole> Roles() =>
        (Gpus ?? [new GpuGroup(GpuRole.Colocated, 1)]).SelectMany(g => Enumerable.Repeat(g.Role, g.Count)).ToList();

    /// <summary>Problems with these roles on a node of <paramref name="gpusPerNode"/> GPUs.</summary>
    public IEnumerable<(string Field, string Problem)> Check(int gpusPerNode)
    {
        var roles = Roles();
        if (roles.Count == 0) yield return ("gpus", "no GPUs in any role: list at least one group, or leave gpus out for one colocated GPU");
        if (roles.Count > gpusPerNode)
            yield return ("gpus", $"the roles name {roles.Count} GPUs but the node has {gpusPerNode}");
        var prefill = roles.Count(r => r == GpuRole.Prefill);
        var decode = roles.Count(r => r == GpuRole.Decode);
        if (prefill > 0 && decode == 0) yield return ("gpus", "prefill GPUs need at least one decode GPU to hand their requests to");
        if (decode > 0 && prefill == 0) yield return ("gpus", "decode GPUs need at least one prefill GPU to receive requests from");
    }
}
