using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace RealRunner.Kernels;

/// <summary>
/// KV append: writes each row's new K and V (fp32 from the QKV projection, stored as fp16) into
/// its slot: block <c>tables[seq][pos / block_size]</c>, slot <c>pos % block_size</c>. One thread
/// per (row, KV head, dimension). The projection row holds Q (heads x head_dim), then K, then V
/// (kv_heads x head_dim each).
/// </summary>
public sealed class KvAppend
{
    private readonly Action<AcceleratorStream, Index1D, AttentionArgs, ArrayView<float>, ArrayView<Half>, ArrayView<int>, ArrayView<int>, ArrayView<int>> append;

    public KvAppend(Accelerator accelerator) =>
        append = accelerator.LoadAutoGroupedKernel<Index1D, AttentionArgs, ArrayView<float>, ArrayView<Half>, ArrayView<int>, ArrayView<int>, ArrayView<int>>(Kernel);

    public void Run(AcceleratorStream stream, AttentionArgs a, int rows, ArrayView<float> qkv, ArrayView<Half> kv, ArrayView<int> rowSeq, ArrayView<int> rowPos, ArrayView<int> tables)
    {
        if (rows > 0) append(stream, rows * a.Kv.KvHeads * a.Kv.HeadDim, a, qkv, kv, rowSeq, rowPos, tables);
    }

    private static void Kernel(Index1D index, AttentionArgs a, ArrayView<float> qkv, ArrayView<Half> kv, ArrayView<int> rowSeq, ArrayView<int> rowPos, ArrayView<int> tables)
    {
        int i = index;
        var d = a.Kv.HeadDim;
        var dim = i % d;
        var kvHead = i / d % a.Kv.KvHeads;
        var row = i / (d * a.Kv.KvHeads);
        var position = rowPos[row];
        var block = a.Block(tables, rowSeq[row], position);
        var source = (long)row * a.QStride + (long)a.Heads * d + (long)kvHead * d + dim;
        kv[a.Kv.Offset(block, a.Layer, 0, kvHead, position % a.Kv.BlockSize) + dim] = (Half)qkv[source];
        kv[a.Kv.Offset(block, a.Layer, 1, kvHead, position % a.Kv.BlockSize) + dim] = (Half)qkv[source + (long)a.Kv.KvHeads * d];
    }

    /// <summary>The plain C# reference: the same writes into a copy of the store.</summary>
    public static Half[] Reference(AttentionArgs a, int rows, float[] qkv, Half[] kv, int[] rowSeq, int[] rowPos, int[] tables)
    {
        var result = (Half[])kv.Clone();
        var d = a.Kv.HeadDim;
        for (var row = 0; row < rows; row++)
        {
            var position = rowPos[row];
            var block = tables[rowSeq[row] * a.MaxBlocksPerSeq + position / a.Kv.BlockSize];
            for (var h = 0; h < a.Kv.KvHeads; h++)
                for (var i = 0; i < d; i++)
                {
                    var source = row * a.QStride + a.Heads * d + h * d + i;
                    result[a.Kv.Offset(block, a.Layer, 0, h, position % a.Kv.BlockSize) + i] = (Half)qkv[source];
                    result[a.Kv.Offset(block, a.Layer, 1, h, position % a.Kv.BlockSize) + i] = (Half)qkv[source + a.Kv.KvHeads * d];
                }
        }
        return result;
    }
}
