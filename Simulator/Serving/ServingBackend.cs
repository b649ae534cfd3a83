using Policies.Core;
using Policies.Memory;
using Simulator.CostModel;
using Simulator.Engine;
using Simulator.Fabric;

namespace Simulator.Serving;

/// <summary>How a KV move goes: between GPU blocks and host memory, or through a GPU's staging area.</summary>
public enum KvMoveKind
{
    /// <summary>Host pool to the destination GPU's blocks.</summary>
    HostToGpu,

    /// <summary>A GPU's blocks to the host pool (hand-off or swap-out).</summary>
    GpuToHost,

    /// <summary>One GPU's blocks to another's (peer hand-off).</summary>
    GpuToGpu,

    /// <summary>Host pool to a GPU's staging area (first hop of GPU prefetch; it takes none of that GPU's blocks).</summary>
    HostToStaging,

    /// <summary>A GPU's staging area to the destination GPU's blocks (second hop of GPU prefetch).</summary>
    StagingToGpu,
}

/// <summary>
/// A model instance as a backend sees it: its index in the deployment, its KV blocks (their ids when the backend asked for them)
/// and its GPUs (tensor-parallel degree; 1 for one GPU).
/// </summary>
public readonly record struct GpuMemory(int Gpu, KvBlockManager Blocks, int Tp = 1);

/// <summary>
/// One KV move of a request: <see cref="Bytes"/> from <see cref="From"/> to <see cref="To"/> (null = the node's host pool) over <see cref="Path"/>.
/// <see cref="FreedBlocks"/>: the source blocks' ids when the source no longer holds them (a swap-out, <see cref="SwapOut.Blocks"/>); otherwise
/// the source's blocks are those it holds.
/// </summary>
public sealed record KvMove(Request Request, long Bytes, KvMoveKind Kind, GpuMemory? From, GpuMemory? To, int Node, TransferPath Path,
    IReadOnlyList<int>? FreedBlocks = null);

/// <summary>
/// What a serving run's GPUs and links do: the simulator predicts (the cost model and the shared
/// links of <see cref="TransferFabric"/>); RealRunner executes the batch's kernels and the copies
/// on a device and reports what it measured. The serving logic (routing, policies, memory, when
/// what moves) is the same code either way.
/// </summary>
public interface IServingBackend
{
    /// <summary>One forward pass of <paramref name="gpu"/>: its cost, predicted or measured.</summary>
    IterationCost Forward(GpuMemory gpu, ForwardBatch batch);

    /// <summary>Moves a request's KV; the event fires when the bytes have landed.</summary>
    SimEvent Move(KvMove move);

    /// <summary>
    /// Moves a request's KV shards (a tensor-parallel instance's, one per GPU), started together; the event fires when the last has
    /// landed. By default each is a <see cref="Move(KvMove)"/> of its own, joined by <see cref="Simulation.AllOf(IReadOnlyList{SimEvent})"/>.
    /// </summary>
    SimEvent Move(IReadOnlyList<KvMove> shards)
    {
        if (shards.Count == 1) return Move(shards[0]);
        var landed = new SimEvent[shards.Count];
        for (var i = 0; i < shards.Count; i++) landed[i] = Move(shards[i]);
        return landed[0].Simulation.AllOf(landed);
    }

    /// <summary>Whether KV block managers must track block ids (a backend placing KV by block in device memory), not only counts.</summary>
    bool NeedsBlockIds => true;

    /// <summary>
    /// What prices a GPU's standing decode batches (<see cref="StandingDecode"/>: repeated decode passes run with lazy per-request
    /// state), or null: a backend that executes every pass (RealRunner) runs none.
    /// </summary>
    IStandingCosts? StandingCostsFor(GpuMemory gpu) => null;
}

/// <summary>
/// The simulator's backend: the cost model's estimate (the one for the instance's size: a tensor-parallel instance's prices its
/// shard and collectives); transfers sharing the links max-min fairly, one fabric per node (nodes share no link, so their flows
/// are shared out separately, and a transfer's start or end recomputes only its node's rates).
/// </summary>
public sealed class ModelledBackend : IServingBackend
{
    private readonly ForwardCostModel?[] costModels;
    private readonly IReadOnlyList<TransferFabric> fabrics;
    private readonly bool lazyDecode;

    /// <param name="costModels">The cost model of each instance size (tensor-parallel degree) the deployment uses.</param>
    public ModelledBackend(IReadOnlyDictionary<int, ForwardCostModel> costModels, IReadOnlyList<TransferFabric> fabrics, bool lazyDecode = true)
    {
        this.costModels = new ForwardCostModel?[costModels.Keys.Max() + 1];
        foreach (var (tp, model) in costModels) this.costModels[tp] = model;
        this.fabrics = fabrics;
        this.lazyDecode = lazyDecode;
    }

    public ModelledBackend(ForwardCostModel costModel, IReadOnlyList<TransferFabric> fabrics, bool lazyDecode = true)
        : this(new Dictionary<int, ForwardCostModel> { [1] = costModel }, fabrics, lazyDecode)
    {
    }

    private ForwardCostModel CostOf(GpuMemory gpu) =>
        costModels[gpu.Tp] ?? throw new InvalidOperationException($"No cost model for instances of {gpu.Tp} GPUs.");

    public IterationCost Forward(GpuMemory gpu, ForwardBatch batch) => CostOf(gpu).Estimate(batch);

    /// <summary>The cost model needs only how many blocks a GPU uses.</summary>
    public bool NeedsBlockIds => false;

    public IStandingCosts? StandingCostsFor(GpuMemory gpu) => lazyDecode && CostOf(gpu) is { SupportsStanding: true } model ? model : null;

    public SimEvent Move(KvMove move) => fabrics[move.Node].Transfer(move.Bytes, move.Path);

    /// <summary>The shards as one shipment of the node's fabric: the same simulation as a transfer per shard, with fewer events (<see cref="TransferFabric.Transfer(IReadOnlyList{TransferPart})"/>).</summary>
    public SimEvent Move(IReadOnlyList<KvMove> shards)
    {
        var parts = new TransferPart[shards.Count];
        for (var i = 0; i < parts.Length; i++)
        {
            if (shards[i].Node != shards[0].Node) throw new ArgumentException("A request's KV shards move within one node.", nameof(shards));
            parts[i] = new TransferPart(shards[i].Bytes, shards[i].Path);
        }
        return fabrics[shards[0].Node].Transfer(parts);
    }
}

/// <summary>Builds a run's backend from its simulation and cost model (the default builds <see cref="ModelledBackend"/>).</summary>
public delegate IServingBackend BackendFactory(Simulation sim, ForwardCostModel costModel);
