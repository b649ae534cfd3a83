using System.ComponentModel.DataAnnotations;

namespace Simulator.CostModel;

/// <summary>
/// The decode-attention kernel family: how a launch is cut into thread blocks and how fast they run
/// (<see cref="AttentionLaunch"/>). The published families take their rates from the GPU's
/// <c>attention_kernels</c> catalog entry; <see cref="PerHead"/> is the generic shape RealRunner's own kernel has.
/// </summary>
public enum AttentionKernel
{
    /// <summary>The engine's own choice (<see cref="EngineProfile"/>): vLLM v0's v1/v2 rule for the vLLM-family policies.</summary>
    Auto,

    /// <summary>Generic: one block per (request, kv head) at the GPU's per_block_bandwidth (RealRunner's kernel; calibrations override it).</summary>
    PerHead,

    /// <summary>Flash-Decoding / FlashAttention-3 style: one block per (request, kv head, KV partition), plus a reduction.</summary>
    SplitKv,

    /// <summary>vLLM v0 PagedAttention v1: one block per (request, query head); shared memory grows with the longest context.</summary>
    PagedV1,

    /// <summary>vLLM v0 PagedAttention v2: one block per (request, query head, 512-token partition), plus a reduction kernel.</summary>
    PagedV2,

    /// <summary>FlashAttention-2 decode: one block per (request, kv head) with the query heads packed, split by its occupancy heuristic.</summary>
    Fa2,

    /// <summary>FlashInfer batch decode: a plan splits requests longer than total KV / grid and balances chunks over a fixed grid.</summary>
    Flashinfer,
}

/// <summary>Whether a kernel may split a request's KV over several blocks.</summary>
public enum AttentionSplit
{
    /// <summary>As the kernel's own rule decides.</summary>
    Auto,

    /// <summary>Never (a kernel built or called without split-KV).</summary>
    Never,
}

/// <summary>How the decode-attention makespan is computed.</summary>
public enum AttentionMode
{
    /// <summary>The O(requests) closed form with launch-order wave effects (fast; the default).</summary>
    ClosedForm,

    /// <summary>The fluid schedule of every thread block over the SMs (slower; the reference the closed form is tested against).</summary>
    Exact,
}

/// <summary>Which KV lengths decode attention is priced from.</summary>
public enum AttentionLengths
{
    /// <summary>Every request's own KV length (the model's point: a long request makes the batch wait).</summary>
    Own,

    /// <summary>Every request at the batch's mean KV length, as batch-mean simulators (Vidur) do; for comparison.</summary>
    Mean,
}

/// <param name="AttentionKernel">The decode-attention kernel family; auto (default) takes the engine's own (<see cref="EngineProfile"/>).</param>
/// <param name="AttentionSplit">auto: the kernel's split rule; never: no split-KV (as FlashAttention 2.0 or FlashInfer's non-split decode).</param>
/// <param name="AttentionGqaPacking">fa2 only: query heads sharing a KV head run in one block (FlashAttention 2.4 and later); false as 2.0.</param>
/// <param name="EngineCpu">Host time between passes: auto (the engine the policy stands for, <see cref="EngineProfile"/>), none,
/// vllm_v0 (serialised) or vllm_async (overlapped).</param>
/// <param name="EngineCpuFixedUs">Replaces the engine's fixed host time per pass (a sweepable assumption).</param>
/// <param name="EngineCpuPerSequenceUs">Replaces the engine's host time per request in a pass.</param>
/// <param name="SplitKvPartitionTokens">split_kv's partition; null: for the published family, split so the launch fills the GPU
/// (Flash-Decoding's aim); for the generic kernel without rates (RealRunner's), 512 tokens.</param>
/// <param name="AttentionLengths">own (each request's KV length) or mean (the batch mean, as Vidur; blind to a long outlier).</param>
/// <param name="KernelsPerLayer">Small kernels one layer launches besides its GEMMs and attention (norms, rotary, activation, residual add;
/// Vidur profiles five), each at least the GPU's kernel_launch_us.</param>
/// <param name="IterationOverheadUs">A further fixed cost per forward pass, serialised (0: the engine's host time is engine_cpu's).</param>
/// <param name="AllReduce">Which all-reduce a tensor-parallel instance runs: auto (the engine's, <see cref="EngineProfile"/>), nccl, or vllm_custom
/// (vLLM's custom kernel below its 8 MiB buffer where the node allows it and has its fit; NCCL above).</param>
/// <param name="Calibration">A calibration file from RealRunner's profile: its fitted GPU parameters replace the catalog's, and its tables correct the closed form inside their range;
/// or <c>vidur:DIR</c>, a Vidur profiling folder read as one (<see cref="Calibration.VidurProfile"/>).</param>
public sealed record CostModelConfig(
    AttentionKernel AttentionKernel = AttentionKernel.Auto,
    AttentionMode AttentionMode = AttentionMode.ClosedForm,
    [Range(1, 1 << 24)] int? SplitKvPartitionTokens = null,
    [Range(0, 1000)] int KernelsPerLayer = 5,
    [Range(0.0, 1e7)] double IterationOverheadUs = 0,
    [Config.FilePath(Scheme = Calibration.VidurProfile.Scheme)] string? Calibration = null,
    AttentionLengths AttentionLengths = AttentionLengths.Own,
    AttentionSplit AttentionSplit = AttentionSplit.Auto,
    bool AttentionGqaPacking = true,
    EngineCpuModel EngineCpu = EngineCpuModel.Auto,
    [Range(0.0, 1e7)] double? EngineCpuFixedUs = null,
    [Range(0.0, 1e7)] double? EngineCpuPerSequenceUs = null,
    AllReduceChoice AllReduce = AllReduceChoice.Auto);

/// <summary>The all-reduce a tensor-parallel instance runs (<see cref="TensorParallel"/>).</summary>
public enum AllReduceChoice
{
    /// <summary>The engine's own (<see cref="EngineProfile.CustomAllReduce"/>).</summary>
    Auto,

    /// <summary>NCCL's ring, at the node's <c>all_reduce</c> fit.</summary>
    Nccl,

    /// <summary>vLLM's custom all-reduce kernel for messages under its 8 MiB buffer, at the node's <c>custom_all_reduce</c> fit; NCCL above.</summary>
    VllmCustom,
}

/// <summary>The engine host time a pass pays (<see cref="EngineProfile"/>).</summary>
public enum EngineCpuModel
{
    /// <summary>The host time of the engine the policy stands for.</summary>
    Auto,

    /// <summary>No host time (the GPU never waits for its host).</summary>
    None,

    /// <summary>vLLM v0: host time serialised with the GPU.</summary>
    VllmV0,

    /// <summary>vLLM 0.6 with async output processing (PR #7049): the same host time, overlapped with the next pass.</summary>
    VllmAsync,
}
