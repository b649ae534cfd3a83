using Policies.Core;
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

/// <summary>One KV move of a request: <see cref="Bytes"/> from <see cref="From"/> to <see cref="To"/> (null = the node's host pool) over <see cref="Path"/>.</summary>
public sealed record KvMove(Request Request, long Bytes, KvMoveKind Kind, GpuWorker? From, GpuWorker? To, int Node, TransferPath Path);

/// <summary>
/// What a serving run's GPUs and links do: the simulator predicts (the cost model and the shared
/// links of <see cref="TransferFabric"/>); RealRunner executes the batch's kernels and the copies
/// on a device and reports what it measured. The serving logic (routing, policies, memory, when
/// what moves) is the same code either way.
/// </summary>
public interface IServingBackend
{
    /// <summary>One forward pass of <paramref name="gpu"/>: its cost, predicted or measured.</summary>
    IterationCost Forward(GpuWorker gpu, ForwardBatch batch);

    /// <summary>Moves a request's KV; the event fires when the bytes have landed.</summary>
    SimEvent Move(KvMove move);

    /// <summary>Whether KV block managers must track block ids (a backend placing KV by block in device memory), not only counts.</summary>
    bool NeedsBlockIds => true;

    /// <summary>
    /// A standing batch for one GPU (<see cref="StandingDecode"/>, reused for each batch it runs), or null:
    /// a backend that executes every pass (RealRunner) runs none.
    /// </summary>
    StandingDecode? StandingFor(GpuWorker gpu) => null;

    /// <summary>The shape a standing batch of these decodes prices its passes with, or null when it cannot stand.</summary>
    StandingShape? StandingShapeFor(int requests, int longestTokens, long totalTokens) => null;

    /// <summary>The current pass of a standing batch this backend started.</summary>
    IterationCost ForwardStanding(GpuWorker gpu, StandingDecode standing) =>
        throw new NotSupportedException($"{GetType().Name} runs no standing batches.");
}

/// <summary>
/// The simulator's backend: the cost model's estimate; transfers sharing the links max-min fairly,
/// one fabric per node (nodes share no link, so their flows are shared out separately, and a
/// transfer's start or end recomputes only its node's rates).
/// </summary>
public sealed class ModelledBackend(ForwardCostModel costModel, IReadOnlyList<TransferFabric> fabrics, bool lazyDecode = true) : IServingBackend
{
    public IterationCost Forward(GpuWorker gpu, ForwardBatch batch) => costModel.Estimate(batch);

    /// <summary>The cost model needs only how many blocks a GPU uses.</summary>
    public bool NeedsBlockIds => false;

    public StandingDecode? StandingFor(GpuWorker gpu) =>
        lazyDecode && costModel.SupportsStanding ? new StandingDecode(gpu.Blocks.BlockSizeTokens) : null;

    public StandingShape? StandingShapeFor(int requests, int longestTokens, long totalTokens) =>
        costModel.StandingShapeFor(requests, longestTokens, totalTokens);

    public IterationCost ForwardStanding(GpuWorker gpu, StandingDecode standing) => costModel.EstimateStanding(standing);

    public SimEvent Move(KvMove move) => fabrics[move.Node].Transfer(move.Bytes, move.Path);
}

/// <summary>Builds a run's backend from its simulation and cost model (the default builds <see cref="ModelledBackend"/>).</summary>
public delegate IServingBackend BackendFactory(Simulation sim, ForwardCostModel costModel);
