using System.ComponentModel.DataAnnotations;
using Policies.Core;
using Simulator.Specs;

namespace Simulator.Serving;

/// <summary>
/// Some model instances of each node in one role: <paramref name="Count"/> instances of <paramref name="Tp"/> GPUs each
/// (tensor parallelism; 1, the default, is one GPU per instance).
/// </summary>
public sealed record GpuGroup(GpuRole Role, [Range(1, 1024)] int Count, [Range(1, 1024)] int Tp = 1);

/// <summary>One model instance of a node: its role and its GPUs (tensor-parallel degree).</summary>
public readonly record struct InstanceShape(GpuRole Role, int Tp);

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
/// <c>gpus</c> out means one colocated GPU per node. A group's <c>tp: k</c> makes each of its instances k GPUs of the node
/// (tensor parallelism); pairing and routing are by instance, as by GPU when every k is 1.
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

    private IReadOnlyList<GpuGroup> Groups =>
        FixedSplit() is ({ } p, { } d) ? [new GpuGroup(GpuRole.Prefill, p), new GpuGroup(GpuRole.Decode, d)] : Gpus ?? [new GpuGroup(GpuRole.Colocated, 1)];

    /// <summary>Roles of one node's instances, instance order: groups as listed (or as <see cref="Split"/> sets them).</summary>
    public IReadOnlyList<GpuRole> Roles() => Instances().Select(i => i.Role).ToList();

    /// <summary>One node's instances in order (groups as listed), each taking the next <see cref="InstanceShape.Tp"/> GPUs of the node.</summary>
    public IReadOnlyList<InstanceShape> Instances() =>
        Groups.SelectMany(g => Enumerable.Repeat(new InstanceShape(g.Role, g.Tp), g.Count)).ToList();

    /// <summary>GPUs one node's instances take.</summary>
    public int GpusPerNode() => Groups.Sum(g => g.Count * g.Tp);

    /// <summary>The tensor-parallel degrees the instances use, smallest first.</summary>
    public IReadOnlyList<int> TpDegrees() => Groups.Select(g => g.Tp).Distinct().Order().ToList();

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
        if (Split is not null && Gpus is { } listed && listed.Any(g => g.Tp > 1))
            yield return ("split", "a split counts single-GPU instances; with tensor-parallel groups (tp > 1) list the groups instead");
        var roles = Roles();
        if (Split == AutoSplit && (roles.Any(r => r == GpuRole.Colocated) || roles.Count < 2))
            yield return ("split", "auto re-splits the listed prefill and decode GPUs: list at least two, none colocated");
        if (roles.Count == 0) yield return ("gpus", "no GPUs in any role: list at least one group, or leave gpus out for one colocated GPU");
        var gpus = GpusPerNode();
        if (gpus > gpusPerNode)
            yield return ("gpus", Groups.Any(g => g.Tp > 1)
                ? $"the instances take {gpus} GPUs ({string.Join(" + ", Groups.Select(g => $"{g.Count} x tp {g.Tp}"))}) but the node has {gpusPerNode}"
                : $"the roles name {roles.Count} GPUs but the node has {gpusPerNode}");
        var prefill = roles.Count(r => r == GpuRole.Prefill);
        var decode = roles.Count(r => r == GpuRole.Decode);
        if (prefill > 0 && decode == 0) yield return ("gpus", "prefill GPUs need at least one decode GPU to hand their requests to");
        if (decode > 0 && prefill == 0) yield return ("gpus", "decode GPUs need at least one prefill GPU to receive requests from");
    }

    /// <summary>Problems splitting <paramref name="model"/> over the groups' tensor-parallel instances on <paramref name="node"/>.</summary>
    public IEnumerable<(string Field, string Problem)> CheckSharding(ModelSpec model, NodeSpec node)
    {
        for (var i = 0; i < Groups.Count; i++)
        {
            var tp = Groups[i].Tp;
            if (tp == 1) continue;
            if (model.ShardingProblem(tp) is { } problem) yield return ($"gpus[{i}].tp", problem);
            if (node.AllReduceFor(tp) is null)
                yield return ($"gpus[{i}].tp", $"node '{node.Name}' has no all-reduce measurements for {tp} GPUs (its all_reduce lists " +
                    $"{(node.AllReduce is { Count: > 0 } fits ? string.Join(", ", fits.Select(f => f.Gpus)) : "none")}): a tensor-parallel instance cannot be priced there");
        }
    }
}
