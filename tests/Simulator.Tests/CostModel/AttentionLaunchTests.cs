using Simulator.CostModel;
using Simulator.Specs;

namespace Simulator.Tests.CostModel;

/// <summary>The kernel families' launch rules, against the rules in the kernels' own sources.</summary>
public sealed class AttentionLaunchTests
{
    private static readonly ModelSpec Opt13B = new("opt-13b", Layers: 40, Hidden: 5120, Heads: 40, KvHeads: 40, HeadDim: 128, Ffn: 20480, Vocab: 50272,
        FfnKind.Gelu, MaxPositionTokens: 2048, TiedEmbeddings: true);

    private static readonly GpuSpec A100 = new("a100", SmCount: 108, HbmCapacityGib: 80, HbmBandwidthGbPerS: 1800, DenseTflops: 250,
        PerBlockBandwidthGbPerS: 20, MaxResidentBlocksPerSm: 4, KernelLaunchUs: 4, CopyEngines: 3, SharedMemoryPerSmKib: 164,
        AttentionKernels: new AttentionKernelRates(Paged: new KernelRates(25, 8, 15, 5), Fa2: new KernelRates(20, 1, 20, 5)));

    [Theory]
    [InlineData(32, 40, 8192, AttentionKernel.PagedV1)]   // OPT at batch 32..256 under 8,192 tokens: v1
    [InlineData(256, 40, 2000, AttentionKernel.PagedV1)]
    [InlineData(32, 40, 8193, AttentionKernel.PagedV2)]   // one request over 8,192 switches the launch to v2
    [InlineData(1, 32, 512, AttentionKernel.PagedV1)]     // one partition
    [InlineData(1, 32, 1024, AttentionKernel.PagedV2)]    // two partitions and 32 seqs x heads <= 512
    [InlineData(16, 32, 1024, AttentionKernel.PagedV2)]   // 512 is not > 512
    [InlineData(17, 32, 1024, AttentionKernel.PagedV1)]
    public void Vllm_Should_Choose_Its_Kernel_By_Its_Own_Rule(int requests, int heads, int longest, AttentionKernel expected) =>
        Assert.Equal(expected, AttentionLaunch.VllmChoice(requests, heads, longest));

    [Theory]
    [InlineData(48, 108, 64, 2)]     // flash_api.cpp's own example: 48 blocks on 108 SMs take 2 splits (efficiency 0.89)
    [InlineData(87, 108, 64, 1)]     // 0.8 x 108 = 86.4: the heads nearly fill the SMs, no split
    [InlineData(1, 108, 8, 8)]       // a single head splits as far as its key blocks allow
    [InlineData(32, 132, 64, 4)]
    public void Fa2_Should_Split_By_Its_Occupancy_Heuristic(long blocks, int sms, int nBlocks, int expected) =>
        Assert.Equal(expected, AttentionLaunch.Fa2Splits(blocks, sms, nBlocks, 64));

    [Fact]
    public void Paged_V1_Should_Hold_Fewer_Blocks_Per_Sm_As_The_Longest_Context_Grows()
    {
        var config = new CostModelConfig();
        var shortLaunch = AttentionLaunch.Plan(AttentionKernel.PagedV1, Opt13B, A100, config, 32, 2048, 32 * 2048);
        var longLaunch = AttentionLaunch.Plan(AttentionKernel.PagedV1, Opt13B, A100, config, 32, 8192, 32 * 2048);

        // 164 KiB / (2,048 x 4 bytes) = 20 blocks, capped at the kernel's 8; 164 KiB / (8,192 x 4 bytes) = 5.
        Assert.Equal(108 * 8, shortLaunch.Slots);
        Assert.Equal(108 * 5, longLaunch.Slots);
        // The shape holds while the padded longest fits as many blocks: 167,936 / (8 x 4) = 5,248 tokens; 167,936 / (5 x 4) = 8,396, down to 8,384.
        Assert.Equal(5248, shortLaunch.LongestLimitTokens);
        Assert.Equal(8384, longLaunch.LongestLimitTokens);
        // One block per query head; the group's KV is read once from HBM (MHA: group 1).
        Assert.Equal(40, shortLaunch.HeadsPerRequest);
        Assert.Equal(1800, shortLaunch.Bandwidth);
    }

    [Fact]
    public void Fa2_Should_Pack_A_Gqa_Group_Into_One_Block_And_Split_Small_Batches()
    {
        var gqa = Opt13B with { Heads = 32, KvHeads = 8 };
        var launch = AttentionLaunch.Plan(AttentionKernel.Fa2, gqa, A100, new CostModelConfig(), 1, 8192, 8192);

        // 8 KV-head blocks on 108 SMs, 64 key blocks of 128: the heuristic's split, a partition a multiple of 128 tokens.
        var splits = AttentionLaunch.Fa2Splits(8, 108, 64, 64);
        Assert.Equal(8, launch.HeadsPerRequest);
        Assert.Equal((64 + splits - 1) / splits * 128, launch.PartitionTokens);
        Assert.Equal((20 + 5) * 1000, launch.FixedNs); // launch plus the split's reduction
    }

    [Fact]
    public void A_Family_Without_Rates_Should_Be_Refused_With_The_Gpu_Named()
    {
        var e = Assert.Throws<Simulator.Config.ConfigException>(() => AttentionLaunch.Plan(AttentionKernel.Flashinfer, Opt13B, A100, new CostModelConfig(), 1, 100, 100));
        Assert.Contains("gpu 'a100'", e.Message);
        Assert.Contains("per_head", e.Message);
    }
}
