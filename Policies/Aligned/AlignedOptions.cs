using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Policies.Aligned;

/// <summary>How a candidate batch's KV reaches the decode GPU from host memory.</summary>
public enum PrefetchPath
{
    /// <summary>Host -> paired prefill GPU over its PCIe -> decode GPU over NVLink (GPU-prefetch-for-GPU).</summary>
    GpuPrefetch,

    /// <summary>Host -> decode GPU over the decode GPU's own PCIe.</summary>
    PcieDirect,
}

/// <summary>Options of <c>aligned</c>; each part of AlignedServe is one switch, for ablations.</summary>
/// <param name="KMin">Fewest requests in a batch, unless the pool holds fewer (paper: 36).</param>
/// <param name="BMax">Cap on a batch's KV as a share of the decode GPU's KV blocks (paper: 0.4).</param>
/// <param name="PrefixAware">Form batches from the densest KV-length region of the pool; off: FCFS from the pool.</param>
/// <param name="Prefetch">Stage the next batch's KV while the current one runs; off: fetch it when the switch is due.</param>
/// <param name="SwitchThreshold">Switch to the candidate batch when the running batch has shrunk below this share of its starting size.</param>
/// <param name="CandidateRequests">Refill the running batch from the pool, nearest KV length first, as members finish.</param>
/// <param name="StarvationGuardS">A request pooled longer than this is forced into the next batch; null: no guard.</param>
/// <param name="Preemption">A decode GPU out of blocks swaps its latest request back to the host pool (default), or recomputes it.</param>
public sealed record AlignedOptions(
    [Description("fewest requests per batch")][Range(1, 1_000_000)] int KMin = 36,
    [Description("batch KV cap, share of GPU KV blocks")][Range(0.01, 1.0)] double BMax = 0.4,
    [Description("prefix-aware batch formation")] bool PrefixAware = true,
    [Description("stage the next batch ahead")] bool Prefetch = true,
    [Description("host-to-decode-GPU path")] PrefetchPath PrefetchPath = PrefetchPath.GpuPrefetch,
    [Description("running-batch share that triggers a switch")][Range(0.0, 1.0)] double SwitchThreshold = 0.5,
    [Description("refill the running batch as members finish")] bool CandidateRequests = true,
    [Description("longest pool wait before a forced batch (s)")][Range(0.0, 1e9)] double? StarvationGuardS = null,
    [Description("most requests running at once on a GPU")][Range(1, 1_000_000)] int MaxNumSeqs = 1024,
    [Description("prompt tokens per prefill pass")][Range(1, 10_000_000)] int PrefillTokenBudget = 8192,
    [Description("how a victim loses its KV")] Vllm.Preemption Preemption = Vllm.Preemption.Swap);
