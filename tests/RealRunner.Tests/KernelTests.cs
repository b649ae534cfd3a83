using ILGPU.Runtime;
using RealRunner.Checks;
using RealRunner.Kernels;

namespace RealRunner.Tests;

/// <summary>
/// Every kernel on the CPU accelerator against its plain C# reference, on fresh random inputs,
/// with outputs poisoned (NaN) beforehand so an element the kernel forgot to write fails; the
/// grouped (CUDA) and flat (CPU) variants both.
/// </summary>
public sealed class KernelTests(CpuDevice device) : IClassFixture<CpuDevice>
{
    private Accelerator Acc => device.Session.Primary;

    private static void AssertOk(CheckResult result) => Assert.True(result.Ok, $"{result.Kernel} ({result.Variant}, {result.Shape}): {result.Failure}");

    /// <summary>Lengths (1, block boundaries 16 and 32, ragged), heads, KV heads, head_dim; each for the grouped and flat kernels.</summary>
    public static TheoryData<int[], int, int, int, bool> Shapes
    {
        get
        {
            var data = new TheoryData<int[], int, int, int, bool>();
            foreach (var grouped in new[] { true, false })
            {
                data.Add([1, 16, 17, 32, 5, 47], 4, 4, 32, grouped);   // MHA
                data.Add([1, 16, 33, 64, 2], 8, 2, 64, grouped);       // GQA, 4 query heads per KV head
                data.Add([31, 16, 1], 2, 1, 128, grouped);             // MQA-like, the widest head
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Per_Head_Attention_Should_Match_The_Reference(int[] lengths, int heads, int kvHeads, int headDim, bool grouped)
    {
        var c = AttentionCase.Make(new Random(lengths.Sum() + heads), lengths, heads, kvHeads, headDim, blockSize: 16, layers: 2, layer: 1);
        AssertOk(KernelChecks.Attention(Acc, c, grouped, "attention"));
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Split_Kv_Attention_Should_Match_The_Reference(int[] lengths, int heads, int kvHeads, int headDim, bool grouped)
    {
        var c = AttentionCase.Make(new Random(lengths.Sum() * 3 + heads), lengths, heads, kvHeads, headDim, blockSize: 16, layers: 2, layer: 0, partitionTokens: 16);
        Assert.True(c.Args.Partitions > 1);
        AssertOk(KernelChecks.Attention(Acc, c, grouped, "attention_split_kv"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Causal_Rows_Of_A_Prefill_Should_Match_The_Reference(bool grouped)
    {
        var c = AttentionCase.Make(new Random(7), [20, 3], 4, 2, 32, blockSize: 8, layers: 1, layer: 0, everyToken: true);
        Assert.Equal(23, c.Rows);
        AssertOk(KernelChecks.Attention(Acc, c, grouped, "attention_prefill"));
    }

    [Fact]
    public void A_Wrong_Or_Unwritten_Output_Should_Fail_The_Comparison()
    {
        Assert.False(KernelChecks.Compare("k", "v", "s", [1f, 2f], [1f, float.NaN], 1e-4, 1e-5).Ok);
        Assert.False(KernelChecks.Compare("k", "v", "s", [1f, 2f], [1f, 2.01f], 1e-4, 1e-5).Ok);
        Assert.True(KernelChecks.Compare("k", "v", "s", [1f, 2f], [1f, 2.00001f], 1e-4, 1e-5).Ok);
    }

    [Fact]
    public void Kv_Append_Should_Write_Exactly_The_New_Slots()
    {
        var c = AttentionCase.Make(new Random(11), [1, 16, 17, 40], 4, 2, 32, blockSize: 16, layers: 3, layer: 2);
        AssertOk(KernelChecks.Append(Acc, c));
        var after = KvAppend.Reference(c.Args, c.Rows, c.Q, c.Kv, c.RowSeq, c.RowPos, c.Tables);
        var changed = Enumerable.Range(0, after.Length).Count(i => (float)after[i] != (float)c.Kv[i]);
        Assert.InRange(changed, 1, c.Rows * 2 * 2 * 32); // only the new tokens' K and V (rows x K,V x kv heads x dims)
    }

    [Theory]
    [InlineData(1, 96, 64, true)]      // a decode token through a projection
    [InlineData(37, 50, 33, true)]     // ragged edges in every dimension
    [InlineData(64, 128, 256, true)]   // whole tiles
    [InlineData(1, 96, 64, false)]
    [InlineData(37, 50, 33, false)]
    public void Gemm_Should_Match_The_Reference_And_Leave_Row_Padding_Alone(int m, int n, int k, bool tiled) =>
        AssertOk(KernelChecks.Gemm(Acc, new Random(m * 1000 + n + k), m, n, k, tiled));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Activation_Should_Match_The_Reference(bool swiglu) =>
        AssertOk(KernelChecks.Activation(Acc, new Random(swiglu ? 1 : 2), 5, 40, swiglu));

    [Fact]
    public void Random_Fill_Should_Match_Its_Host_Formula_And_Spread_Over_Minus_One_To_One()
    {
        using var buffer = Acc.Allocate1D<float>(10_000);
        new RandomFill(Acc).Fill(Acc.DefaultStream, buffer.View, 42);
        Acc.Synchronize();
        var values = buffer.GetAsArray1D();
        Assert.All(Enumerable.Range(0, values.Length), i => Assert.Equal(RandomFill.Value(i, 42), values[i]));
        Assert.InRange(values.Min(), -1f, -0.99f);
        Assert.InRange(values.Max(), 0.99f, 1f);
        Assert.InRange(values.Average(), -0.05, 0.05);
    }
}
