using System.ComponentModel.DataAnnotations;

namespace Simulator.Specs;

/// <summary>
/// How one decode-attention kernel family runs on one GPU (configs/hardware/gpus/, <c>attention_kernels</c>),
/// fitted to published kernel times: see <see cref="CostModel.AttentionLaunch"/> for how they price a launch.
/// </summary>
/// <param name="PerBlockGbPerS">Bytes one thread block streams per ns on its own (its memory-level parallelism): with few blocks in
/// flight the launch streams at blocks x this, not at the HBM rate.</param>
/// <param name="ResidentBlocksPerSm">Blocks of this kernel an SM holds at once (registers, threads; vLLM v1's shared memory may lower it further).</param>
/// <param name="LaunchUs">Fixed time of a launch: launch, ramp-up, tail, output write.</param>
/// <param name="ReductionUs">The extra kernel that merges split partitions (v2's reduce, split-KV's combine), when the launch splits.</param>
public sealed record KernelRates(
    [Range(1e-3, 1_000_000.0)] double PerBlockGbPerS,
    [Range(1, 64)] int ResidentBlocksPerSm,
    [Range(0.0, 1_000_000.0)] double LaunchUs,
    [Range(0.0, 1_000_000.0)] double ReductionUs = 0);

/// <summary>The decode-attention kernel families a GPU has rates for (null: none published or derived for this GPU).</summary>
/// <param name="Paged">vLLM v0 PagedAttention, v1 and v2 alike (one kernel source, one rate).</param>
public sealed record AttentionKernelRates(
    KernelRates? Paged = null,
    KernelRates? Fa2 = null,
    KernelRates? SplitKv = null,
    KernelRates? Flashinfer = null);
