using ILGPU;
using ILGPU.Runtime;
using RealRunner.Kernels;
using Half = ILGPU.Half;

namespace RealRunner.Checks;

/// <summary>One kernel compared with its reference: the largest errors and whether every element is within tolerance (and was written).</summary>
public sealed record CheckResult(string Kernel, string Variant, string Shape, int Elements, double MaxAbsError, double MaxRelError, string? Failure)
{
    public bool Ok => Failure is null;
}

/// <summary>Attention rows over a paged store whose sequences' blocks are scattered (not in order), with random fp16 KV and queries.</summary>
public sealed record AttentionCase(AttentionArgs Args, int Rows, float[] Q, Half[] Kv, int[] RowSeq, int[] RowPos, int[] Tables)
{
    /// <param name="everyToken">A row per token (a prefill's causal rows) instead of one per sequence at its last token (decode).</param>
    public static AttentionCase Make(Random random, int[] lengths, int heads, int kvHeads, int headDim, int blockSize, int layers, int layer,
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
        var kv = new Half[blockIds.Length * layout.BlockElements];
        for (var i = 0; i < kv.Length; i++) kv[i] = (Half)(float)(random.NextDouble() * 2 - 1);
        var rows = everyToken ? lengths.SelectMany((l, s) => Enumerable.Range(0, l).Select(p => (s, p))).ToArray()
            : lengths.Select((l, s) => (s, p: l - 1)).ToArray();
        var qStride = (heads + 2 * kvHeads) * headDim;
        var q = new float[rows.Length * qStride];
        for (var i = 0; i < q.Length; i++) q[i] = (float)(random.NextDouble() * 4 - 2);
        var partitions = partitionTokens == 0 ? 1 : (lengths.Max() + partitionTokens - 1) / partitionTokens;
        var args = new AttentionArgs(layout, heads, layer, maxBlocks, qStride, heads * headDim, partitionTokens == 0 ? int.MaxValue : partitionTokens, partitions);
        return new AttentionCase(args, rows.Length, q, kv, rows.Select(r => r.s).ToArray(), rows.Select(r => r.p).ToArray(), tables);
    }

    public string Shape => $"{Rows} rows, ctx <= {RowPos.Max() + 1}, {Args.Heads}/{Args.Kv.KvHeads} heads, d {Args.Kv.HeadDim}{(Args.Partitions > 1 ? $", {Args.Partitions} partitions" : "")}";
}

/// <summary>
/// The kernels against their plain C# references on fresh random inputs, outputs poisoned with
/// NaN first (an element the kernel forgot to write fails). Shared by the tests and <c>selfcheck</c>.
/// </summary>
public static class KernelChecks
{
    public const double AttentionRelative = 1e-4, AttentionAbsolute = 1e-5;
    public const double GemmRelative = 1e-4, GemmAbsolute = 1e-4;

    public static float[] RunAttention(Accelerator acc, AttentionCase c, bool grouped)
    {
        using var q = acc.Allocate1D(c.Q);
        using var kv = acc.Allocate1D(c.Kv);
        using var seq = acc.Allocate1D(c.RowSeq);
        using var pos = acc.Allocate1D(c.RowPos);
        using var tables = acc.Allocate1D(c.Tables);
        using var output = acc.Allocate1D(Enumerable.Repeat(float.NaN, c.Rows * c.Args.OutStride).ToArray());
        using var partMax = acc.Allocate1D<float>(Math.Max(1, PagedAttention.PartialScalars(c.Args, c.Rows)));
        using var partSum = acc.Allocate1D<float>(Math.Max(1, PagedAttention.PartialScalars(c.Args, c.Rows)));
        using var partAcc = acc.Allocate1D<float>(Math.Max(1, PagedAttention.PartialFloats(c.Args, c.Rows)));
        new PagedAttention(acc, grouped).Run(acc.DefaultStream, c.Args, c.Rows, q.View, kv.View, seq.View, pos.View, tables.View, output.View,
            partMax.View, partSum.View, partAcc.View);
        acc.Synchronize();
        return output.GetAsArray1D();
    }

    public static CheckResult Attention(Accelerator acc, AttentionCase c, bool grouped, string kernel) =>
        Compare(kernel, grouped ? "grouped" : "flat", c.Shape, PagedAttention.Reference(c.Args, c.Rows, c.Q, c.Kv, c.RowSeq, c.RowPos, c.Tables),
            RunAttention(acc, c, grouped), AttentionRelative, AttentionAbsolute);

    /// <summary>Runs KV append; the result is compared element for element (fp16 writes are exact).</summary>
    public static CheckResult Append(Accelerator acc, AttentionCase c)
    {
        using var qkv = acc.Allocate1D(c.Q);
        using var kv = acc.Allocate1D(c.Kv);
        using var seq = acc.Allocate1D(c.RowSeq);
        using var pos = acc.Allocate1D(c.RowPos);
        using var tables = acc.Allocate1D(c.Tables);
        new KvAppend(acc).Run(acc.DefaultStream, c.Args, c.Rows, qkv.View, kv.View, seq.View, pos.View, tables.View);
        acc.Synchronize();
        var expected = KvAppend.Reference(c.Args, c.Rows, c.Q, c.Kv, c.RowSeq, c.RowPos, c.Tables);
        return Compare("kv_append", "flat", c.Shape, expected.Select(h => (float)h).ToArray(), kv.GetAsArray1D().Select(h => (float)h).ToArray(), 0, 0);
    }

    public static (GemmShape Shape, float[] A, Half[] W) GemmCase(Random random, int m, int n, int k)
    {
        var shape = new GemmShape(m, n, k, lda: k + 3, ldc: n + 5);
        var a = Enumerable.Range(0, m * shape.Lda).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var w = Enumerable.Range(0, k * n).Select(_ => (Half)(float)(random.NextDouble() * 2 - 1)).ToArray();
        return (shape, a, w);
    }

    /// <summary>C with its row padding poisoned: the padding must stay NaN, the rest match the reference.</summary>
    public static float[] RunGemm(Accelerator acc, GemmShape shape, float[] a, Half[] w, bool tiled)
    {
        using var da = acc.Allocate1D(a);
        using var dw = acc.Allocate1D(w);
        using var dc = acc.Allocate1D(Enumerable.Repeat(float.NaN, shape.M * shape.Ldc).ToArray());
        new DenseGemm(acc, tiled).Run(acc.DefaultStream, shape, da.View, dw.View, dc.View);
        acc.Synchronize();
        return dc.GetAsArray1D();
    }

    public static CheckResult Gemm(Accelerator acc, Random random, int m, int n, int k, bool tiled)
    {
        var (shape, a, w) = GemmCase(random, m, n, k);
        var actual = RunGemm(acc, shape, a, w, tiled);
        var expected = DenseGemm.Reference(shape, a, w, Enumerable.Repeat(float.NaN, shape.M * shape.Ldc).ToArray());
        var inside = Enumerable.Range(0, m).SelectMany(r => Enumerable.Range(r * shape.Ldc, n)).ToArray();
        var result = Compare("gemm", tiled ? "tiled" : "flat", $"{m}x{n}x{k}", inside.Select(i => expected[i]).ToArray(), inside.Select(i => actual[i]).ToArray(),
            GemmRelative, GemmAbsolute);
        var padding = Enumerable.Range(0, m).SelectMany(r => Enumerable.Range(r * shape.Ldc + n, shape.Ldc - n)).FirstOrDefault(i => !float.IsNaN(actual[i]), -1);
        return padding >= 0 && result.Ok ? result with { Failure = $"element {padding} outside C's rows was written" } : result;
    }

    public static CheckResult Activation(Accelerator acc, Random random, int rows, int width, bool swiglu)
    {
        var stride = swiglu ? 2 * width : width;
        var x = Enumerable.Range(0, rows * stride).Select(_ => (float)(random.NextDouble() * 6 - 3)).ToArray();
        using var dx = acc.Allocate1D(x);
        new DenseGemm(acc).Activate(acc.DefaultStream, rows, width, stride, swiglu, dx.View);
        acc.Synchronize();
        return Compare("activation", swiglu ? "swiglu" : "gelu", $"{rows}x{width}", DenseGemm.ActivationReference(rows, width, stride, swiglu, x),
            dx.GetAsArray1D(), 1e-5, 1e-6);
    }

    /// <summary>Element-wise comparison within <c>absolute + relative x |expected|</c>; NaN in the output means never written.</summary>
    public static CheckResult Compare(string kernel, string variant, string shape, float[] expected, float[] actual, double relative, double absolute)
    {
        if (expected.Length != actual.Length)
            return new CheckResult(kernel, variant, shape, expected.Length, double.NaN, double.NaN, $"{actual.Length} values, expected {expected.Length}");
        double maxAbs = 0, maxRel = 0;
        string? failure = null;
        for (var i = 0; i < expected.Length; i++)
        {
            if (float.IsNaN(actual[i]))
            {
                failure ??= $"element {i} was not written";
                continue;
            }
            var error = Math.Abs(expected[i] - actual[i]);
            maxAbs = Math.Max(maxAbs, error);
            if (expected[i] != 0) maxRel = Math.Max(maxRel, error / Math.Abs(expected[i]));
            if (error > absolute + relative * Math.Abs(expected[i]))
                failure ??= $"element {i}: expected {expected[i]}, got {actual[i]}";
        }
        return new CheckResult(kernel, variant, shape, expected.Length, maxAbs, maxRel, failure);
    }

    /// <summary>Every kernel and variant on ragged shapes (lengths 1 and on block boundaries), MHA and GQA; <paramref name="scale"/> lengthens contexts.</summary>
    public static IEnumerable<CheckResult> All(Accelerator acc, int scale = 1)
    {
        var random = new Random(2026);
        int[][] lengths = [[1, 16, 17, 32, 5, 47], [1, 16, 33, 64 * scale, 2], [31, 16 * scale, 1]];
        (int Heads, int KvHeads, int Dim)[] heads = [(4, 4, 32), (8, 2, 64), (2, 1, 128)];
        foreach (var grouped in new[] { true, false })
            for (var i = 0; i < lengths.Length; i++)
            {
                var (h, kvh, d) = heads[i];
                yield return Attention(acc, AttentionCase.Make(random, lengths[i], h, kvh, d, 16, 2, 1), grouped, "attention");
                yield return Attention(acc, AttentionCase.Make(random, lengths[i], h, kvh, d, 16, 2, 0, partitionTokens: 16), grouped, "attention_split_kv");
            }
        foreach (var grouped in new[] { true, false })
            yield return Attention(acc, AttentionCase.Make(random, [20, 3], 4, 2, 32, 8, 1, 0, everyToken: true), grouped, "attention_prefill");
        yield return Append(acc, AttentionCase.Make(random, [1, 16, 17, 40], 4, 2, 32, 16, 3, 2));
        foreach (var tiled in new[] { true, false })
            foreach (var (m, n, k) in new[] { (1, 96, 64), (37, 50, 33), (64, 128, 256) })
                yield return Gemm(acc, random, m, n, k, tiled);
        yield return Activation(acc, random, 5, 40, swiglu: false);
        yield return Activation(acc, random, 5, 40, swiglu: true);
    }
}
