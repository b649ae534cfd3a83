using Simulator.CostModel;

namespace Simulator.Accuracy;

/// <summary>How the cost model prices a published kernel: its family and the options the measurement ran it with.</summary>
public sealed record KernelSetting(AttentionKernel Kernel, AttentionSplit Split, bool GqaPacking, string Note);

/// <summary>
/// Maps a published row's GPU and kernel, as their sources name them, to a catalog GPU and a kernel family. The rules are
/// explicit and few; a row no rule covers is reported as unmapped, never dropped in silence.
/// </summary>
public static class ReferenceMapping
{
    /// <summary>The catalog GPU of a row, and a note when the source leaves the variant open.</summary>
    public static (string? Gpu, string Note) GpuOf(string published)
    {
        var g = published.ToLowerInvariant();
        if (g.StartsWith("h100")) return g.Contains("pcie") ? (null, "H100 PCIe is not in the catalog") : ("h100-sxm-80gb", "");
        if (g.StartsWith("h200")) return ("h200-sxm", "");
        if (!g.StartsWith("a100")) return (null, $"no catalog GPU for '{published}'");
        if (g.Contains("40gb")) return ("a100-pcie-40gb", g.Contains("inferred") ? "variant inferred by the source" : "");
        if (g.Contains("pcie-80gb") || g.Contains("80gb-pcie")) return ("a100-pcie-80gb", "");
        if (g.Contains("sxm")) return ("a100-sxm-80gb", "");
        // The PyTorch Flash-Decoding blog does not say which A100: the SXM 80 GB, the DGX part, is assumed.
        return ("a100-sxm-80gb", "A100 variant not stated: SXM 80 GB assumed");
    }

    /// <summary>The kernel family and options of a row's kernel, or null when no family models it.</summary>
    public static KernelSetting? KernelOf(string published)
    {
        var k = published.ToLowerInvariant();
        if (k.Contains("vllm") && k.Contains("v1/v2")) return new(AttentionKernel.Auto, AttentionSplit.Auto, true, "vLLM v0's v1/v2 rule");
        if (k.Contains("paged_attention v1")) return new(AttentionKernel.PagedV1, AttentionSplit.Auto, true, "");
        if (k.Contains("paged_attention v2")) return new(AttentionKernel.PagedV2, AttentionSplit.Auto, true, "");
        if (k.Contains("flashinfer")) return new(AttentionKernel.Flashinfer, k.Contains("no split") ? AttentionSplit.Never : AttentionSplit.Auto, true, "");
        if (k.Contains("flash-decoding") || k.Contains("flash-attention 3")) return new(AttentionKernel.SplitKv, AttentionSplit.Auto, true, "");
        // FlashAttention 2.0.9 predates both split-KV and packing a GQA group's query heads into one block.
        if (k.Contains("2.0.")) return new(AttentionKernel.Fa2, AttentionSplit.Never, false, "FlashAttention 2.0: no split-KV, one block per query head");
        if (k.Contains("flash-attention")) return new(AttentionKernel.Fa2, AttentionSplit.Auto, true, "");
        return null;
    }
}
