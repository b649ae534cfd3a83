using Simulator.Accuracy;
using Simulator.Config;
using Simulator.CostModel;
using Simulator.Specs;

namespace Simulator.Tests.Accuracy;

/// <summary>The accuracy report: published rows priced as the simulator prices a launch, fits that recover known rates.</summary>
public sealed class AccuracyTests
{
    private static string Fixture => Path.Combine(AppContext.BaseDirectory, "Fixtures", "reference", "decode_attention.csv");

    // 10 SMs, 1000 bytes/ns of HBM; one FlashInfer block per SM at 50 bytes/ns, 15 us per launch.
    private static readonly GpuSpec Toy = new("h100-toy", SmCount: 10, HbmCapacityGib: 80, HbmBandwidthGbPerS: 1000, DenseTflops: 100,
        PerBlockBandwidthGbPerS: 10, MaxResidentBlocksPerSm: 1, KernelLaunchUs: 1, CopyEngines: 1, SharedMemoryPerSmKib: 100,
        AttentionKernels: new AttentionKernelRates(
            Paged: new KernelRates(20, 2, 10, 5), Fa2: new KernelRates(25, 1, 12, 3), SplitKv: new KernelRates(15, 2, 8, 4),
            Flashinfer: new KernelRates(50, 1, 15, 4)));

    private static ReferenceRow Row(string kernel, int batch, int heads, int kvHeads, int kvLen, double timeUs = 100, string gpu = "h100-sxm-80gb") =>
        new("fixture.csv", 2, "fixture", "A", gpu, kernel, batch, heads, kvHeads, 128, kvLen, "fp16", timeUs, "");

    [Fact]
    public void A_Launch_With_Every_Block_Resident_Should_Take_Its_Largest_Block_At_The_Per_Block_Rate_Plus_The_Launch()
    {
        // Given FlashInfer without split-KV, batch 1, 8 KV heads: 8 blocks on 10 slots, 8 x 50 = 400 bytes/ns < 1000
        var setting = ReferenceMapping.KernelOf("flashinfer 0.0.1 (no split-KV)")!;

        // When priced
        var (family, us) = AccuracyEvaluator.Predict(Row("flashinfer", 1, 8, 8, 4096), Toy, setting);

        // Then each block streams 4096 tokens x 512 bytes alone at 50 bytes/ns, after the 15 us launch
        Assert.Equal("flashinfer", family);
        Assert.Equal(15 + 4096 * 512 / 50.0 / 1000, us, 9);
    }

    [Fact]
    public void Equal_Blocks_In_Two_Waves_Should_Take_Two_Block_Times()
    {
        // Given FlashAttention 2.0 (one block per query head): 3 requests x 8 heads = 24 blocks on 10 slots, group of 8 query heads per KV head
        var setting = ReferenceMapping.KernelOf("flash-attention 2.0.9 (no split-KV)")!;
        var (_, us) = AccuracyEvaluator.Predict(Row("fa2 2.0", 3, 8, 1, 1000), Toy, setting);

        // Then three waves of equal blocks, each at the per-block rate (10 x 25 = 250 bytes/ns is below 8 x 1000 of HBM)
        Assert.Equal(12 + 3 * 1000 * 512 / 25.0 / 1000, us, 9);
    }

    [Fact]
    public void The_Report_Should_Price_Every_Mapped_Row_And_List_The_Others()
    {
        using var dir = new TempDir();
        var code = Simulator.Cli.CliApp.Start(["accuracy", "--reference", Path.GetDirectoryName(Fixture)!, "--out", dir.Path, "--catalog", RepoPaths.Configs]);

        Assert.Equal(0, code);
        var rows = File.ReadAllLines(Path.Combine(dir.Path, "accuracy.csv"));
        Assert.Equal(1 + 4, rows.Length);
        Assert.Contains(rows, r => r.Contains(",paged_v1,")); // vLLM's rule picks v1 at 64 requests x 32 heads
        Assert.Contains("tpu-v5e", File.ReadAllText(Path.Combine(dir.Path, "unmapped.csv")));
        var summary = File.ReadAllLines(Path.Combine(dir.Path, "summary.csv"));
        Assert.StartsWith("all,all,4,1,", summary[^1]);
        Assert.True(File.Exists(Path.Combine(dir.Path, "figures", "predicted_vs_measured.png")));
    }

    [Fact]
    public void A_Malformed_Row_Should_Name_Its_Line_And_Column()
    {
        using var dir = new TempDir();
        var csv = Path.Combine(dir.Path, "decode_attention.csv");
        File.WriteAllLines(csv, [File.ReadLines(Fixture).First(), "s,A,h100-sxm-80gb,flashinfer,sixteen,32,32,128,1024,16,fp16,10,,"]);

        var e = Assert.Throws<ConfigException>(() => ReferenceRow.Read(csv));

        Assert.Contains(":2:", e.Message);
        Assert.Contains("'batch'", e.Message);
        Assert.Contains("positive integer", e.Message);
    }

    [Fact]
    public void A_Missing_Reference_Folder_Should_Exit_2()
    {
        using var dir = new TempDir();
        Assert.Equal(2, Simulator.Cli.CliApp.Start(["accuracy", "--reference", dir.Path, "--out", Path.Combine(dir.Path, "out")]));
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "out")));
    }

    [Fact]
    public void An_Output_Folder_Holding_Other_Files_Should_Be_Refused_And_Left_Alone()
    {
        using var dir = new TempDir();
        var mine = Path.Combine(dir.Path, "notes.txt");
        File.WriteAllText(mine, "a user's file");

        Assert.Equal(2, Simulator.Cli.CliApp.Start(["accuracy", "--reference", Path.GetDirectoryName(Fixture)!, "--out", dir.Path]));
        Assert.Equal(["notes.txt"], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void The_Fit_Should_Recover_Rates_That_Generated_The_Rows()
    {
        // Given rows priced with known rates (on the fit's grids) over a spread of shapes
        var truth = new KernelRates(PerBlockGbPerS: 25, ResidentBlocksPerSm: 2, LaunchUs: 12.5, ReductionUs: 6);
        var gpu = Toy with { AttentionKernels = new AttentionKernelRates(Paged: truth) };
        var rows = new List<ReferenceRow>();
        foreach (var (batch, kvLen) in new[] { (1, 1024), (1, 4096), (1, 16384), (4, 1024), (16, 512), (16, 2048), (64, 256), (64, 1024) })
        {
            var row = Row("vllm paged_attention (v1/v2 as chosen)", batch, 32, 8, kvLen);
            var us = AccuracyEvaluator.Predict(row, gpu, ReferenceMapping.KernelOf(row.Kernel)!).PredictedUs;
            rows.Add(row with { TimeUs = us });
        }

        // When the paged family is fitted on them
        var fitted = KernelFit.Fit(rows, _ => gpu with { AttentionKernels = null });

        // Then the rates come back, and price the rows exactly
        var paged = Assert.Single(fitted);
        Assert.Equal(("paged", "h100"), (paged.Family, paged.Arch));
        Assert.Equal(truth, paged.Rates);
        Assert.Equal(0, paged.WorstAbsError, 9);
    }

    [Theory]
    [InlineData("a100 (variant not stated)", "a100-sxm-80gb")]
    [InlineData("a100-40gb-pcie (inferred)", "a100-pcie-40gb")]
    [InlineData("a100-pcie-80gb", "a100-pcie-80gb")]
    [InlineData("h100-sxm-80gb", "h100-sxm-80gb")]
    public void Published_Gpu_Names_Should_Map_To_Catalog_Entries(string published, string catalog) =>
        Assert.Equal(catalog, ReferenceMapping.GpuOf(published).Gpu);
}
