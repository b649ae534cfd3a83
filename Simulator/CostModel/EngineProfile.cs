namespace Simulator.CostModel;

/// <summary>How an engine's host work between GPU passes relates to the GPU.</summary>
public enum HostOverlap
{
    /// <summary>The GPU waits for it: a pass takes GPU time plus host time (vLLM v0 before async output processing).</summary>
    Serialised,

    /// <summary>It runs while the previous pass computes: a pass takes the longer of the two (vLLM's async output processor, SGLang's overlap scheduler).</summary>
    Overlapped,
}

/// <summary>
/// The engine a policy stands for: the decode-attention kernel it launches and the host (CPU) time it spends per
/// pass (DESIGN section 5). Each choice is written down with its evidence, because for most engines the sources
/// are silent and the choice is a named assumption that <c>cost_model.attention_kernel</c> and
/// <c>cost_model.engine_cpu</c> override.
/// </summary>
/// <param name="HostFixedUs">Host time of a pass whatever its size.</param>
/// <param name="HostPerSequenceUs">Host time per request in the pass (output processing, detokenisation, stop checks, input preparation).</param>
/// <param name="CustomAllReduce">Whether a tensor-parallel instance all-reduces small messages with vLLM's custom kernel rather than NCCL.</param>
public sealed record EngineProfile(
    string Engine,
    AttentionKernel Kernel,
    string KernelEvidence,
    double HostFixedUs,
    double HostPerSequenceUs,
    HostOverlap Overlap,
    string HostEvidence,
    bool CustomAllReduce,
    string AllReduceEvidence)
{
    /// <summary>
    /// vLLM v0's host time per pass, from vllm-project/vllm issue #6913 (RFC "Asynchronous Output Processor", Llama-3-70B,
    /// 4xH100): LLMEngine._process_model_outputs took 0.2 ms at batch 1 and 3.4 ms at batch 32, so 0.2 ms + 0.103 ms per
    /// further sequence, serialised with the GPU. It is a lower bound on the engine's host time: scheduling and input
    /// preparation (29% of a step with the API server's 33%, vLLM blog "vLLM v0.6.0", 2024-09-05, Llama-3-8B on one
    /// H100) have no published per-batch figure and are not added.
    /// </summary>
    public const double VllmV0FixedUs = 200 - VllmV0PerSequenceUs;

    /// <summary>(3.4 ms - 0.2 ms) / (32 - 1) sequences, issue #6913.</summary>
    public const double VllmV0PerSequenceUs = 3200.0 / 31;

    /// <summary>
    /// DistServe's scheduling time per pass: the AlignedServe paper reports about 80% of DistServe's scheduling decisions over
    /// 10 ms (DESIGN section 2, from secondary summaries); 10 ms is the lower bound of that figure, added to vLLM v0's output
    /// processing (DistServe's Python engine loop drives its SwiftTransformer workers through Ray and has no async output
    /// processing), serialised. A named assumption: <c>engine_cpu_fixed_us</c> replaces it, and the where-aligned-wins sweep varies it.
    /// </summary>
    public const double DistServeSchedulingUs = 10_000;

    private const string VllmHost = "vLLM v0 output processing per pass, serialised (vllm-project/vllm issue #6913: 0.2 ms at batch 1, 3.4 ms at batch 32)";

    private const string VllmAllReduce = "vLLM all-reduces with its custom kernel (vllm-project/vllm PR #2192, v0.3 on) messages under its 8 MiB buffer on 2 GPUs "
        + "or fully NVLink-connected ones, NCCL otherwise (vllm/distributed/device_communicators/custom_all_reduce.py, should_custom_ar)";

    private const string NcclAllReduce = "torch.distributed's all-reduce (NCCL)";

    private const string StandIn = "; no per-pass host time is published for this engine: vLLM v0's figures stand in (a named assumption; engine_cpu: none removes it)";

    /// <summary>The engine behind a registered policy.</summary>
    public static EngineProfile For(string policy) => policy switch
    {
        "vllm" => new("vLLM v0", AttentionKernel.Auto, "vLLM v0 picks PagedAttention v1 or v2 per launch (vllm/attention/ops/paged_attn.py)",
            VllmV0FixedUs, VllmV0PerSequenceUs, HostOverlap.Serialised, VllmHost, true, VllmAllReduce),
        "sarathi" => new("Sarathi-Serve", AttentionKernel.Flashinfer,
            "Sarathi-Serve's WorkerConfig.attention_backend defaults to FLASHINFER (microsoft/sarathi-serve sarathi/config/config.py)",
            VllmV0FixedUs, VllmV0PerSequenceUs, HostOverlap.Serialised, "Sarathi-Serve is built on vLLM v0's engine loop: " + VllmHost,
            false, "Sarathi-Serve reduces with " + NcclAllReduce + " (microsoft/sarathi-serve@2db5d0b, sarathi/model_executor/parallel_utils/tensor_parallel/mappings.py)"),
        "fastgen" => new("DeepSpeed-FastGen", AttentionKernel.Fa2,
            "DeepSpeed-FastGen's blocked-KV attention derives from FlashAttention-2 (assumption: FlashAttention-2's decode rates)",
            VllmV0FixedUs, VllmV0PerSequenceUs, HostOverlap.Serialised, VllmHost + StandIn,
            false, "DeepSpeed's tensor parallelism reduces through its comm layer over NCCL (assumption: " + NcclAllReduce + ")"),
        "distserve" => new("DistServe", AttentionKernel.Auto,
            "DistServe's SwiftTransformer uses a PagedAttention-style kernel (assumption: vLLM v0's kernels and rule)",
            VllmV0FixedUs + DistServeSchedulingUs, VllmV0PerSequenceUs, HostOverlap.Serialised,
            "DistServe's scheduling, about 80% of its decisions over 10 ms as the AlignedServe paper measured it (10 ms per pass, its lower bound), plus "
            + VllmHost + " (vLLM v0's figures stand in for its output processing)",
            false, "DistServe's SwiftTransformer workers reduce over NCCL (assumption: " + NcclAllReduce + ")"),
        "orca" => new("Orca", AttentionKernel.Auto, "Orca's engine is not public (assumption: vLLM v0's kernels and rule)",
            VllmV0FixedUs, VllmV0PerSequenceUs, HostOverlap.Serialised, VllmHost + StandIn, true, "assumption, as for its kernels: " + VllmAllReduce),
        "aligned" => new("AlignedServe", AttentionKernel.Auto,
            "the paper does not name its kernel (DESIGN section 2, open); assumption: vLLM v0's, so the comparison with vllm isolates batching",
            VllmV0FixedUs, VllmV0PerSequenceUs, HostOverlap.Serialised, VllmHost + StandIn, true, "assumption, as for its kernels: " + VllmAllReduce),
        _ => new(policy, AttentionKernel.Auto, "unknown engine: vLLM v0's kernels and rule", VllmV0FixedUs, VllmV0PerSequenceUs,
            HostOverlap.Serialised, VllmHost + StandIn, true, "unknown engine: " + VllmAllReduce),
    };

}
