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
/// <param name="Split">
/// The prefill:decode split of each node's GPUs: <c>"P:D"</c> (P prefill and D decode GPUs, replacing <c>gpus</c>), or <c>auto</c>:
/// the listed prefill and decode GPUs re-split so that the workload's prefill and decode work balance (<see cref="SplitPlanner"/>;
/// the chosen split is in config.resolved.yaml). Null: <c>gpus</c> as listed.
/// </param>
public sealed record DeploymentConfig(
    [Range(1, 100_000)] int Nodes = 1,
    IReadOnlyList<GpuGroup>? Gpus = null,
    Router Router = Router.LeastOutstanding,
    KvHandoff Handoff = KvHandoff.Peer,
    [Range(0.001, 1_000_000.0)] double? HostPoolGib = null,
    string? Split = null)
{
    public const string AutoSplit = "auto";

    /// <summary>Roles of one node's GPUs, GPU index order: prefill, decode, colocated groups as listed (or as <see cref="Split"/> sets them).</summary>
    public IReadOnlyList<GpuRole> Roles() =>
        (FixedSplit() is ({ } p, { } d) ? [new GpuGroup(GpuRole.Prefill, p), new GpuGroup(GpuRole.Decode, d)] : Gpus ?? [new GpuGroup(GpuRole.Colocated, 1)])
        .SelectMany(g => Enumerable.Repeat(g.Role, g.Count)).ToList();

    /// <summary>The prefill and decode GPUs a <c>"P:D"</c> split names; nulls for none, auto, or a malformed one (<see cref="Check"/> reports it).</summary>
    public (int? Prefill, int? Decode) FixedSplit()
    {
        if (Split is null || Split == AutoSplit) return (null, null);
        var parts = Split.Split(':');
        return parts.Length == 2 && int.TryParse(parts[0], out var p) && int.TryParse(parts[1], out var d) && p >= 1 && d >= 1 ? (p, d) : (null, null);
    }

    /// <summary>Problems with these roles on a node of <paramref name="gpusPerNode"/> GPUs.</summary>
    public IEnumerable<(string Field, string Problem)> Check(int gpusPerNode)
    {
        if (Split is not null && Split != AutoSplit && FixedSplit().Prefill is null)
            yield return ("split", $"'{Split}' is not a split; expected \"P:D\" with P and D at least 1 (e.g. \"2:6\"), or auto");
        var roles = Roles();
        if (Split == AutoSplit && (roles.Any(r => r == GpuRole.Colocated) || roles.Count < 2))
            yield return ("split", "auto re-splits the listed prefill and decode GPUs: list at least two, none colocated");
        if (roles.Count == 0) yield return ("gpus", "no GPUs in any role: list at least one group, or leave gpus out for one colocated GPU");
        if (roles.Count > gpusPerNode)
            yield return ("gpus", $"the roles name {roles.Count} GPUs but the node has {gpusPerNode}");
        var prefill = roles.Count(r => r == GpuRole.Prefill);
        var decode = roles.Count(r => r == GpuRole.Decode);
        if (prefill > 0 && decode == 0) yield return ("gpus", "prefill GPUs need at least one decode GPU to hand their requests to");
        if (decode > 0 && prefill == 0) yield return ("gpus", "decode GPUs need at least one prefill GPU to receive requests from");
    }
}
