using ILGPU;
using ILGPU.Runtime;
using RealRunner.Kernels;
using Half = ILGPU.Half;

namespace RealRunner.Tests;

/// <summary>
/// Every kernel on the CPU accelerator against its plain C# reference, on fresh random inputs,
/// with outputs poisoned (NaN) beforehand so an element the kernel forgot to write fails.
/// </summary>
public sealed class KernelTests(CpuDevice device) : IClassFixture<CpuDevice>
{
    private Accelerator Acc => device.Session.Primary;

    /// <summary>Attention rows over a paged store whose sequences' blocks are scattered (not in order).</summary>
    private sealed record Case(AttentionArgs Args, int Rows, float[] Q, Half[] Kv, int[] RowSeq, int[] RowPos, int[] Tables);

    private static Case MakeCase(Random random, int[] lengths, int heads, int kvHeads, int headDim, int blockSize, int layers, int layer,
        int partitionTokens = 0, bool everyToken = false)
    {
        var layout = new KvLayout(layers, kvHeads, headDim, blockSize);
        var maxBlocks = lengths.Max(l => (l + blockSize - 1) / blockSize);
        var blockIds = Enumerable.Range(0, lengths.Sum(l => (l + blockSize - 1) / blockSize) + 3).OrderBy(_ => random.Next()).ToArray();
        var tables = new int[lengths.Length * maxBlocks];
        Array.Fill(tables, -1);
        var next = 0;
        for (var s = 0; s < lengths.Length; s++)
            for (var b = 0; b < (lengths[s] + blockSize - 1) / blockSize; b++) tables[s * maxBlocks + b] = blockIds[next++];
        var kv = new Half[(blockIds.Length) * layout.BlockElements];
        for (var i = 0; i < kv.Length; i++) kv[i] = (Half)(float)(random.NextDouble() * 2 - 1);
        // Decode: one row per sequence at its last position; prefill-style: a row per token.
        var rows = everyToken ? lengths.SelectMany((l, s) => Enumerable.Range(0, l).Select(p => (s, p))).ToArray()
            : lengths.Select((l, s) => (s, p: l - 1)).ToArray();
        var qStride = (heads + 2 * kvHeads) * headDim;
        var q = new float[rows.Length * qStride];
        for (var i = 0; i < q.Length; i++) q[i] = (float)(random.NextDouble() * 4 - 2);
        var partitions = partitionTokens == 0 ? 1 : (lengths.Max() + partitionTokens - 1) / partitionTokens;
        var args = new AttentionArgs(layout, heads, layer, maxBlocks, qStride, heads * headDim, partitionTokens == 0 ? int.MaxValue : partitionTokens, partitions);
        return new Case(args, rows.Length, q, kv, rows.Select(r => r.s).ToArray(), rows.Select(r => r.p).ToArray(), tables);
    }

    private float[] RunAttention(Case c, bool grouped)
    {
        using var q = Acc.Allocate1D(c.Q);
        using var kv = Acc.Allocate1D(c.Kv);
        using var seq = Acc.Allocate1D(c.RowSeq);
        using var pos = Acc.Allocate1D(c.RowPos);
        using var tables = Acc.Allocate1D(c.Tables);
        using var output = Acc.Allocate1D(Enumerable.Repeat(float.NaN, c.Rows * c.Args.OutStride).ToArray());
        using var partMax = Acc.Allocate1D<float>(Math.Max(1, PagedAttention.PartialScalars(c.Args, c.Rows)));
        using var partSum = Acc.Allocate1D<float>(Math.Max(1, PagedAttention.PartialScalars(c.Args, c.Rows)));
        using var partAcc = Acc.Allocate1D<float>(Math.Max(1, PagedAttention.PartialFloats(c.Args, c.Rows)));
        new PagedAttention(Acc, grouped).Run(Acc.DefaultStream, c.Args, c.Rows, q.View, kv.View, seq.View, pos.View, tables.View, output.View,
            partMax.View, partSum.View, partAcc.View);
        Acc.Synchronize();
        return output.GetAsArray1D();
    }

    private static void AssertClose(float[] expected, float[] actual, double relative, double absolute)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.False(float.IsNaN(actual[i]), $"element {i} was not written");
            var tolerance = absolute + relative * Math.Abs(expected[i]);
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"element {i}: expected {expected[i]}, got {actual[i]} (tolerance {tolerance})");
        }
    }

    /// <summary>Lengths (1, block boundaries 16 and 32, ragged), heads, KV heads, head_dim; each for the grouped (CUDA) and flat (CPU) kernels.</summary>
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
        var c = MakeCase(new Random(lengths.Sum() + heads), lengths, heads, kvHeads, headDim, blockSize: 16, layers: 2, layer: 1);
        var expected = PagedAttention.Reference(c.Args, c.Rows, c.Q, c.Kv, c.RowSeq, c.RowPos, c.Tables);
        AssertClose(expected, RunAttention(c, grouped), 1e-4, 1e-5);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Split_Kv_Attention_Should_Match_The_Reference(int[] lengths, int heads, int kvHeads, int headDim, bool grouped)
    {
        var c = MakeCase(new Random(lengths.Sum() * 3 + heads), lengths, heads, kvHeads, headDim, blockSize: 16, layers: 2, layer: 0, partitionTokens: 16);
        Assert.True(c.Args.Partitions > 1);
        var expected = PagedAttention.Reference(c.Args, c.Rows, c.Q, c.Kv, c.RowSeq, c.RowPos, c.Tables);
        AssertClose(expected, RunAttention(c, grouped), 1e-4, 1e-5);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Causal_Rows_Of_A_Prefill_Should_Match_The_Reference(bool grouped)
    {
        var c = MakeCase(new Random(7), [20, 3], 4, 2, 32, blockSize: 8, layers: 1, layer: 0, everyToken: true);
        Assert.Equal(23, c.Rows);
        var expected = PagedAttention.Reference(c.Args, c.Rows, c.Q, c.Kv, c.RowSeq, c.RowPos, c.Tables);
        AssertClose(expected, RunAttention(c, grouped), 1e-4, 1e-5);
    }

    [Fact]
    public void Kv_Append_Should_Write_Exactly_The_New_Slots()
    {
        var c = MakeCase(new Random(11), [1, 16, 17, 40], 4, 2, 32, blockSize: 16, layers: 3, layer: 2);
        using var qkv = Acc.Allocate1D(c.Q);
        using var kv = Acc.Allocate1D(c.Kv);
        using var seq = Acc.Allocate1D(c.RowSeq);
        using var pos = Acc.Allocate1D(c.RowPos);
        using var tables = Acc.Allocate1D(c.Tables);
        new KvAppend(Acc).Run(Acc.DefaultStream, c.Args, c.Rows, qkv.View, kv.View, seq.View, pos.View, tables.View);
        Acc.Synchronize();
        var expected = KvAppend.Reference(c.Args, c.Rows, c.Q, c.Kv, c.RowSeq, c.RowPos, c.Tables);
        var actual = kv.GetAsArray1D();
        var changed = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal((float)expected[i], (float)actual[i]);
            if ((float)expected[i] != (float)c.Kv[i]) changed++;
        }
        Assert.InRange(changed, 1, c.Rows * 2 * 2 * 32); // only the new tokens' K and V moved
    }

    [Theory]
    [InlineData(1, 96, 64, true)]      // a decode token through a projection
    [InlineData(37, 50, 33, true)]     // ragged edges in every dimension
    [InlineData(64, 128, 256, true)]   // whole tiles
    [InlineData(1, 96, 64, false)]
    [InlineData(37, 50, 33, false)]
    public void Gemm_Should_Match_The_Reference(int m, int n, int k, bool tiled)
    {
        var random = new Random(m * 1000 + n + k);
        var shape = new GemmShape(m, n, k, lda: k + 3, ldc: n + 5);
        var a = Enumerable.Range(0, m * shape.Lda).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var w = Enumerable.Range(0, k * n).Select(_ => (Half)(float)(random.NextDouble() * 2 - 1)).ToArray();
        var c = Enumerable.Repeat(float.NaN, m * shape.Ldc).ToArray();
        using var da = Acc.Allocate1D(a);
        using var dw = Acc.Allocate1D(w);
        using var dc = Acc.Allocate1D(c);
        new DenseGemm(Acc, tiled).Run(Acc.DefaultStream, shape, da.View, dw.View, dc.View);
        Acc.Synchronize();
        var expected = DenseGemm.Reference(shape, a, w, c);
        var actual = dc.GetAsArray1D();
        for (var row = 0; row < m; row++)
        {
            AssertClose(expected[(row * shape.Ldc)..(row * shape.Ldc + n)], actual[(row * shape.Ldc)..(row * shape.Ldc + n)], 1e-4, 1e-4);
            Assert.All(actual[(row * shape.Ldc + n)..((row + 1) * shape.Ldc)], v => Assert.True(float.IsNaN(v))); // the row padding stays untouched
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Activation_Should_Match_The_Reference(bool swiglu)
    {
        var random = new Random(swiglu ? 1 : 2);
        const int rows = 5, width = 40;
        var stride = swiglu ? 2 * width : width;
        var x = Enumerable.Range(0, rows * stride).Select(_ => (float)(random.NextDouble() * 6 - 3)).ToArray();
        using var dx = Acc.Allocate1D(x);
        new DenseGemm(Acc).Activate(Acc.DefaultStream, rows, width, stride, swiglu, dx.View);
        Acc.Synchronize();
        AssertClose(DenseGemm.ActivationReference(rows, width, stride, swiglu, x), dx.GetAsArray1D(), 1e-5, 1e-6);
    }
}
