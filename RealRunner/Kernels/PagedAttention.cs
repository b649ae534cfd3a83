using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace RealRunner.Kernels;

/// <summary>
/// Paged decode attention: fp16 KV, fp32 math, a numerically stable softmax; MHA and GQA (the
/// query heads sharing a KV head are served by one thread group, so each K and V element is read
/// once per group). Per-head variant: one group per (row, KV head) over the whole context.
/// Split-KV variant: one group per (row, KV head, partition of <c>PartitionTokens</c>), writing
/// partial results that <see cref="ReduceKernel"/> combines. Group size: a power of two, at least
/// head_dim and at most <see cref="MaxGroup"/>; thread d owns output dimension d. The flat
/// variant (<c>grouped: false</c>) does the same arithmetic with one thread per (row, head,
/// partition) and no barriers: ILGPU's CPU accelerator runs barrier-heavy groups about 100x
/// slower, so CPU runs use it; CUDA runs use the grouped kernels.
/// </summary>
public sealed class PagedAttention
{
    public const int MaxGroup = 128;

    private readonly Action<AcceleratorStream, KernelConfig, AttentionArgs, ArrayView<float>, ArrayView<Half>, ArrayView<int>, ArrayView<int>, ArrayView<int>,
        ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> attend;
    private readonly Action<AcceleratorStream, Index1D, AttentionArgs, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> reduce;
    private readonly Action<AcceleratorStream, Index1D, AttentionArgs, ArrayView<float>, ArrayView<Half>, ArrayView<int>, ArrayView<int>, ArrayView<int>,
        ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> flat;

    /// <param name="grouped">The grouped kernels (default on CUDA) or the flat one (default on the CPU accelerator).</param>
    public PagedAttention(Accelerator accelerator, bool? grouped = null)
    {
        Grouped = grouped ?? accelerator.AcceleratorType == AcceleratorType.Cuda;
        flat = accelerator.LoadAutoGroupedKernel<Index1D, AttentionArgs, ArrayView<float>, ArrayView<Half>, ArrayView<int>, ArrayView<int>, ArrayView<int>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(FlatKernel);
        attend = accelerator.LoadKernel<AttentionArgs, ArrayView<float>, ArrayView<Half>, ArrayView<int>, ArrayView<int>, ArrayView<int>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(AttendKernel);
        reduce = accelerator.LoadAutoGroupedKernel<Index1D, AttentionArgs, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ReduceKernel);
    }

    public bool Grouped { get; }

    /// <summary>Threads per group for a head dimension.</summary>
    public static int GroupSizeFor(int headDim)
    {
        if (headDim > MaxGroup) throw new ArgumentOutOfRangeException(nameof(headDim), headDim, $"head_dim above {MaxGroup} is not supported by the attention kernel");
        var size = 32;
        while (size < headDim) size *= 2;
        return size;
    }

    /// <summary>Partial-result floats the split-KV variant needs for <paramref name="rows"/> rows.</summary>
    public static long PartialFloats(AttentionArgs a, int rows) => (long)rows * a.Heads * a.Partitions * a.Kv.HeadDim;

    /// <summary>Partial max/sum floats the split-KV variant needs.</summary>
    public static long PartialScalars(AttentionArgs a, int rows) => (long)rows * a.Heads * a.Partitions;

    /// <summary>
    /// Attention of <paramref name="rows"/> rows into <paramref name="output"/> (row-major, heads x head_dim per row). With
    /// <c>a.Partitions</c> above 1, runs the split-KV kernel and its reduction; the partial buffers must hold
    /// <see cref="PartialFloats"/> and <see cref="PartialScalars"/> values.
    /// </summary>
    public void Run(AcceleratorStream stream, AttentionArgs a, int rows, ArrayView<float> q, ArrayView<Half> kv, ArrayView<int> rowSeq,
        ArrayView<int> rowPos, ArrayView<int> tables, ArrayView<float> output, ArrayView<float> partMax, ArrayView<float> partSum, ArrayView<float> partAcc)
    {
        if (rows == 0) return;
        if (Grouped)
            attend(stream, new KernelConfig(rows * a.Kv.KvHeads * a.Partitions, GroupSizeFor(a.Kv.HeadDim)), a, q, kv, rowSeq, rowPos, tables, output,
                partMax, partSum, partAcc);
        else flat(stream, rows * a.Heads * a.Partitions, a, q, kv, rowSeq, rowPos, tables, output, partMax, partSum, partAcc);
        if (a.Partitions > 1) reduce(stream, rows * a.Heads * a.Kv.HeadDim, a, output, partMax, partSum, partAcc);
    }

    /// <summary>One group: (row, KV head, partition); loops over the query heads of the KV head.</summary>
    private static void AttendKernel(AttentionArgs a, ArrayView<float> q, ArrayView<Half> kv, ArrayView<int> rowSeq, ArrayView<int> rowPos,
        ArrayView<int> tables, ArrayView<float> output, ArrayView<float> partMax, ArrayView<float> partSum, ArrayView<float> partAcc)
    {
        var reduceBuffer = SharedMemory.Allocate<float>(MaxGroup);
        var probabilities = SharedMemory.Allocate<float>(MaxGroup);
        var tid = Group.IdxX;
        var threads = Group.DimX;
        var g = Grid.IdxX;
        var part = g % a.Partitions;
        var kvHead = g / a.Partitions % a.Kv.KvHeads;
        var row = g / (a.Partitions * a.Kv.KvHeads);
        var seq = rowSeq[row];
        var context = rowPos[row] + 1;
        var start = a.Partitions == 1 ? 0 : part * a.PartitionTokens;
        var end = a.Partitions == 1 ? context : XMath.Min(context, start + a.PartitionTokens);
        var d = a.Kv.HeadDim;
        for (var local = 0; local < a.GroupSize; local++)
        {
            var head = kvHead * a.GroupSize + local;
            var qBase = (long)row * a.QStride + (long)head * d;

            // Pass 1: the largest score of the range.
            var max = float.NegativeInfinity;
            for (var t = start + tid; t < end; t += threads)
                max = XMath.Max(max, Score(a, q, kv, tables, seq, qBase, kvHead, t));
            max = ReduceMax(reduceBuffer, max, tid, threads);

            // Pass 2: p = exp(score - max) a chunk at a time; thread tid accumulates dimension tid.
            var sum = 0f;
            var acc = 0f;
            for (var chunk = start; chunk < end; chunk += threads)
            {
                var t = chunk + tid;
                var p = t < end ? XMath.Exp(Score(a, q, kv, tables, seq, qBase, kvHead, t) - max) : 0f;
                probabilities[tid] = p;
                sum += p;
                Group.Barrier();
                if (tid < d)
                {
                    var n = XMath.Min(threads, end - chunk);
                    for (var j = 0; j < n; j++)
                    {
                        var position = chunk + j;
                        var v = a.Kv.Offset(a.Block(tables, seq, position), a.Layer, 1, kvHead, position % a.Kv.BlockSize);
                        acc += probabilities[j] * (float)kv[v + tid];
                    }
                }
                Group.Barrier();
            }
            sum = ReduceSum(reduceBuffer, sum, tid, threads);
            if (a.Partitions == 1)
            {
                if (tid < d) output[(long)row * a.OutStride + (long)head * d + tid] = acc / sum;
            }
            else
            {
                var slot = ((long)row * a.Heads + head) * a.Partitions + part;
                if (tid < d) partAcc[slot * d + tid] = acc;
                if (tid == 0)
                {
                    partMax[slot] = max;
                    partSum[slot] = sum;
                }
            }
            Group.Barrier();
        }
    }

    private static float Score(AttentionArgs a, ArrayView<float> q, ArrayView<Half> kv, ArrayView<int> tables, int seq, long qBase, int kvHead, int position)
    {
        var k = a.Kv.Offset(a.Block(tables, seq, position), a.Layer, 0, kvHead, position % a.Kv.BlockSize);
        var dot = 0f;
        for (var i = 0; i < a.Kv.HeadDim; i++) dot += q[qBase + i] * (float)kv[k + i];
        return dot * a.Scale;
    }

    private static float ReduceMax(ArrayView<float> buffer, float value, int tid, int threads)
    {
        buffer[tid] = value;
        Group.Barrier();
        for (var s = threads / 2; s > 0; s /= 2)
        {
            if (tid < s) buffer[tid] = XMath.Max(buffer[tid], buffer[tid + s]);
            Group.Barrier();
        }
        var result = buffer[0];
        Group.Barrier();
        return result;
    }

    private static float ReduceSum(ArrayView<float> buffer, float value, int tid, int threads)
    {
        buffer[tid] = value;
        Group.Barrier();
        for (var s = threads / 2; s > 0; s /= 2)
        {
            if (tid < s) buffer[tid] += buffer[tid + s];
            Group.Barrier();
        }
        var result = buffer[0];
        Group.Barrier();
        return result;
    }

    /// <summary>The flat variant: one thread per (row, query head, partition), accumulating into its output (or partial) row.</summary>
    private static void FlatKernel(Index1D index, AttentionArgs a, ArrayView<float> q, ArrayView<Half> kv, ArrayView<int> rowSeq, ArrayView<int> rowPos,
        ArrayView<int> tables, ArrayView<float> output, ArrayView<float> partMax, ArrayView<float> partSum, ArrayView<float> partAcc)
    {
        int i = index;
        var part = i % a.Partitions;
        var head = i / a.Partitions % a.Heads;
        var row = i / (a.Partitions * a.Heads);
        var kvHead = head / a.GroupSize;
        var seq = rowSeq[row];
        var context = rowPos[row] + 1;
        var start = a.Partitions == 1 ? 0 : part * a.PartitionTokens;
        var end = a.Partitions == 1 ? context : XMath.Min(context, start + a.PartitionTokens);
        var d = a.Kv.HeadDim;
        var qBase = (long)row * a.QStride + (long)head * d;
        var slot = ((long)row * a.Heads + head) * a.Partitions + part;
        var target = a.Partitions == 1 ? output : partAcc;
        var outBase = a.Partitions == 1 ? (long)row * a.OutStride + (long)head * d : slot * d;
        var max = float.NegativeInfinity;
        for (var t = start; t < end; t++) max = XMath.Max(max, Score(a, q, kv, tables, seq, qBase, kvHead, t));
        for (var j = 0; j < d; j++) target[outBase + j] = 0f;
        var sum = 0f;
        for (var t = start; t < end; t++)
        {
            var p = XMath.Exp(Score(a, q, kv, tables, seq, qBase, kvHead, t) - max);
            sum += p;
            var v = a.Kv.Offset(a.Block(tables, seq, t), a.Layer, 1, kvHead, t % a.Kv.BlockSize);
            for (var j = 0; j < d; j++) target[outBase + j] += p * (float)kv[v + j];
        }
        if (a.Partitions == 1)
        {
            for (var j = 0; j < d; j++) output[outBase + j] /= sum;
        }
        else
        {
            partMax[slot] = max;
            partSum[slot] = sum;
        }
    }

    /// <summary>Split-KV reduction: one thread per (row, head, dimension) rescales and sums the partitions.</summary>
    private static void ReduceKernel(Index1D index, AttentionArgs a, ArrayView<float> output, ArrayView<float> partMax, ArrayView<float> partSum, ArrayView<float> partAcc)
    {
        int i = index;
        var d = a.Kv.HeadDim;
        var dim = i % d;
        var rowHead = i / d;
        var row = rowHead / a.Heads;
        var head = rowHead % a.Heads;
        var first = (long)rowHead * a.Partitions;
        var max = float.NegativeInfinity;
        for (var p = 0; p < a.Partitions; p++) max = XMath.Max(max, partMax[first + p]);
        var sum = 0f;
        var acc = 0f;
        for (var p = 0; p < a.Partitions; p++)
        {
            var m = partMax[first + p];
            if (m == float.NegativeInfinity) continue; // an empty partition (past the row's context)
            var w = XMath.Exp(m - max);
            sum += partSum[first + p] * w;
            acc += partAcc[(first + p) * d + dim] * w;
        }
        output[(long)row * a.OutStride + (long)head * d + dim] = acc / sum;
    }

    /// <summary>The plain C# reference: the same rows, attention in double precision over the fp16 KV.</summary>
    public static float[] Reference(AttentionArgs a, int rows, float[] q, Half[] kv, int[] rowSeq, int[] rowPos, int[] tables)
    {
        var d = a.Kv.HeadDim;
        var output = new float[rows * a.OutStride];
        for (var row = 0; row < rows; row++)
        {
            var context = rowPos[row] + 1;
            for (var head = 0; head < a.Heads; head++)
            {
                var kvHead = head / a.GroupSize;
                var scores = new double[context];
                for (var t = 0; t < context; t++)
                {
                    var block = tables[rowSeq[row] * a.MaxBlocksPerSeq + t / a.Kv.BlockSize];
                    var k = a.Kv.Offset(block, a.Layer, 0, kvHead, t % a.Kv.BlockSize);
                    double dot = 0;
                    for (var i = 0; i < d; i++) dot += q[row * a.QStride + head * d + i] * (double)(float)kv[k + i];
                    scores[t] = dot * a.Scale;
                }
                var max = scores.Max();
                var weights = scores.Select(s => Math.Exp(s - max)).ToArray();
                var total = weights.Sum();
                for (var i = 0; i < d; i++)
                {
                    double acc = 0;
                    for (var t = 0; t < context; t++)
                    {
                        var block = tables[rowSeq[row] * a.MaxBlocksPerSeq + t / a.Kv.BlockSize];
                        acc += weights[t] * (float)kv[a.Kv.Offset(block, a.Layer, 1, kvHead, t % a.Kv.BlockSize) + i];
                    }
                    output[row * a.OutStride + head * d + i] = (float)(acc / total);
                }
            }
        }
        return output;
    }
}
