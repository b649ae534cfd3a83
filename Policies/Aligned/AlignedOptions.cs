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

/// <summary>Where the candidate batch's KV waits until the switch.</summary>
public enum CandidateBuffer
{
    /// <summary>In the paired prefill GPU's HBM, in its KV blocks; the switch moves it over NVLink (the paper's placement; with <c>gpu_prefetch</c>).</summary>
    PrefillGpu,

    /// <summary>In the decode GPU's own KV blocks, reserved while the running batch still runs.</summary>
    DecodeGpu,
}

/// <summary>What <see cref="AlignedOptions.BMax"/> counts of a batch (the sources say only "a batch's KV is capped at 40% of the GPU's blocks").</summary>
public enum BMaxCounts
{
    /// <summary>The KV the batch holds when it is formed or joined (the default: all a scheduler knows without output lengths).</summary>
    Current,

    /// <summary>The KV the batch will hold at its largest: every member's prompt plus its whole output (an oracle reading: it uses output lengths).</summary>
    WithGrowth,
}

/// <summary>Options of <c>aligned</c>; each part of AlignedServe is one switch, for ablations.</summary>
/// <param name="KMin">Fewest requests in a batch, unless the pool holds fewer (paper: 36).</param>
/// <param name="BMax">Cap on a batch's KV as a share of the decode GPU's KV blocks (paper: 0.4).</param>
/// <param name="BMaxCounts">What the cap counts: the batch's KV now, or at its largest (with its members' whole outputs).</param>
/// <param name="KMinStrict">Form a batch only once the pool holds k_min requests (starved requests excepted); off: k_min is the density search's target and a smaller pool forms a smaller batch.</param>
/// <param name="PrefixAware">Form batches from the densest KV-length region of the pool; off: FCFS from the pool.</param>
/// <param name="Prefetch">Stage the next batch's KV while the current one runs; off: fetch it when the switch is due.</param>
/// <param name="Staging">Where the candidate batch waits: the paired prefill GPU's HBM (default; with <c>gpu_prefetch</c> only) or the decode GPU's.</param>
/// <param name="SwitchThreshold">Switch to the candidate batch when the running batch has shrunk below this share of its starting size.</param>
/// <param name="CandidateRequests">Refill the running batch from the pool, nearest KV length first, as members finish.</param>
/// <param name="StarvationGuardS">A request pooled longer than this joins the running batch at the next decision where it fits under b_max (else it is first in the next batch); null: no guard.</param>
/// <param name="Preemption">A decode GPU out of blocks swaps its latest request back to the host pool (default), or recomputes it.</param>
public sealed record AlignedOptions(
    [Description("fewest requests per batch")][Range(1, 1_000_000)] int KMin = 36,
    [Description("batch KV cap, share of GPU KV blocks")][Range(0.01, 1.0)] double BMax = 0.4,
    [Description("what b_max counts: current or with_growth")] BMaxCounts BMaxCounts = BMaxCounts.Current,
    [Description("wait for k_min pooled requests before forming a batch")] bool KMinStrict = false,
    [Description("prefix-aware batch formation")] bool PrefixAware = true,
    [Description("stage the next batch ahead")] bool Prefetch = true,
    [Description("host-to-decode-GPU path")] PrefetchPath PrefetchPath = PrefetchPath.GpuPrefetch,
    [Description("where the candidate batch waits")] CandidateBuffer Staging = CandidateBuffer.PrefillGpu,
    [Description("running-batch share that triggers a switch")][Range(0.0, 1.0)] double SwitchThreshold = 0.5,
    [Description("refill the running batch as members finish")] bool CandidateRequests = true,
    [Description("longest pool wait before a forced batch (s)")][Range(0.0, 1e9)] double? StarvationGuardS = 5.0,
    [Description("most requests running at once on a GPU")][Range(1, 1_000_000)] int MaxNumSeqs = 1024,
    [Description("prompt tokens per prefill pass")][Range(1, 10_000_000)] int PrefillTokenBudget = 8192,
    [Description("how a victim loses its KV")] Vllm.Preemption Preemption = Vllm.Preemption.Swap);
