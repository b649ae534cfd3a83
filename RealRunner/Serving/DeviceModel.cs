using ILGPU;
using ILGPU.Runtime;
using RealRunner.Device;
using RealRunner.Kernels;
using RealRunner.Memory;
using Simulator.Specs;
using Half = ILGPU.Half;

namespace RealRunner.Serving;

/// <summary>
/// A forward pass's attention rows and sampled tokens, as host arrays: rows 0..PrefillRows-1 are
/// prompt tokens (causal rows), the rest decode tokens; sequence s's block ids are
/// <c>Tables[s * MaxBlocksPerSeq ..]</c>; <see cref="Sampled"/> rows produce logits.
/// </summary>
public sealed record ForwardPlan(int PrefillRows, int DecodeRows, int[] RowSeq, int[] RowPos, int[] Tables, int Sequences, int Sampled)
{
    public int Rows => PrefillRows + DecodeRows;
}

/// <summary>What one measured forward pass took, split as the simulator's cost model splits it.</summary>
public readonly record struct ForwardTiming(TimeSpan Total, TimeSpan PrefillAttention, TimeSpan DecodeAttention)
{
    public TimeSpan Dense => Total - PrefillAttention - DecodeAttention;
}

/// <summary>
/// The model on one accelerator: one layer's weights of the model's real shapes (QKV, output
/// projection, MLP) and the LM head, random fp16 values, run once per layer (every layer reads
/// the same bytes a real one would), with the layer's own KV in the store. Each layer: QKV GEMM,
/// KV append, paged attention (prefill rows per head; decode rows with the configured kernel),
/// output projection, MLP with its activation; then the LM head for the sampled tokens. Values
/// are not meaningful (every layer starts from the same random input); shapes, bytes and FLOPs are.
/// </summary>
public sealed class DeviceModel : IDisposable
{
    private readonly ModelSpec model;
    private readonly DeviceStreams streams;
    private readonly PagedAttention attention;
    private readonly KvAppend append;
    private readonly DenseGemm gemm;
    private readonly MemoryBuffer1D<Half, Stride1D.Dense> wQkv, wO, wUp, wDown, wLm;
    private readonly List<IDisposable> scratch = [];
    private MemoryBuffer1D<float, Stride1D.Dense>? xIn, qkv, attn, xOut, mlp, logits, partMax, partSum, partAcc;
    private MemoryBuffer1D<int, Stride1D.Dense>? rowSeq, rowPos, tables;
    private int rowCapacity;

    public DeviceModel(ModelSpec model, DeviceStreams streams, int seed = 1)
    {
        this.model = model;
        this.streams = streams;
        var acc = streams.Accelerator;
        attention = new PagedAttention(acc);
        append = new KvAppend(acc);
        gemm = new DenseGemm(acc);
        var random = new Random(seed);
        wQkv = Weights(random, model.Hidden, QkvWidth, "QKV projection");
        wO = Weights(random, model.Heads * model.HeadDim, model.Hidden, "output projection");
        wUp = Weights(random, model.Hidden, UpWidth, "MLP up projection");
        wDown = Weights(random, model.Ffn, model.Hidden, "MLP down projection");
        wLm = Weights(random, model.Hidden, model.Vocab, "LM head");
    }

    public ModelSpec Spec => model;

    public DeviceStreams Streams => streams;

    private int QkvWidth => (model.Heads + 2 * model.KvHeads) * model.HeadDim;

    private int UpWidth => model.FfnKind == FfnKind.Swiglu ? 2 * model.Ffn : model.Ffn;

    /// <summary>Device bytes of the weights held (one layer and the LM head).</summary>
    public long WeightBytes => (wQkv.Length + wO.Length + wUp.Length + wDown.Length + wLm.Length) * 2;

    private MemoryBuffer1D<Half, Stride1D.Dense> Weights(Random random, int rows, int cols, string what)
    {
        var scale = (float)(1 / Math.Sqrt(rows));
        var values = new Half[(long)rows * cols];
        for (long i = 0; i < values.Length; i++) values[i] = (Half)((float)(random.NextDouble() * 2 - 1) * scale);
        var buffer = DeviceMemory.Allocate<Half>(streams.Accelerator, values.Length, $"{model.Name}'s {what} weights");
        buffer.CopyFromCPU(values);
        return buffer;
    }

    /// <summary>Grows the activation and row buffers to hold <paramref name="rows"/> rows.</summary>
    private void Ensure(int rows, int sequences, int maxBlocks, AttentionArgs decodeArgs)
    {
        var acc = streams.Accelerator;
        if (rows > rowCapacity)
        {
            foreach (var b in scratch) b.Dispose();
            scratch.Clear();
            rowCapacity = Math.Max(rows, rowCapacity * 2);
            MemoryBuffer1D<float, Stride1D.Dense> F(long n, string what)
            {
                var b = DeviceMemory.Allocate<float>(acc, n, what);
                scratch.Add(b);
                return b;
            }
            xIn = F((long)rowCapacity * model.Hidden, "activations");
            var random = new Random(2);
            xIn.CopyFromCPU(Enumerable.Range(0, rowCapacity * model.Hidden).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray());
            qkv = F((long)rowCapacity * QkvWidth, "QKV activations");
            attn = F((long)rowCapacity * model.Heads * model.HeadDim, "attention output");
            xOut = F((long)rowCapacity * model.Hidden, "layer output");
            mlp = F((long)rowCapacity * UpWidth, "MLP activations");
            logits = F((long)rowCapacity * model.Vocab, "logits");
            rowSeq = DeviceMemory.Allocate<int>(acc, rowCapacity, "row table");
            rowPos = DeviceMemory.Allocate<int>(acc, rowCapacity, "row positions");
            scratch.Add(rowSeq);
            scratch.Add(rowPos);
        }
        var tableLength = (long)Math.Max(1, sequences) * maxBlocks;
        if (tables is null || tables.Length < tableLength)
        {
            tables?.Dispose();
            tables = DeviceMemory.Allocate<int>(acc, tableLength * 2, "block tables");
        }
        var partials = PagedAttention.PartialFloats(decodeArgs, rows);
        if (partAcc is null || partAcc.Length < partials)
        {
            partAcc?.Dispose();
            partMax?.Dispose();
            partSum?.Dispose();
            partAcc = DeviceMemory.Allocate<float>(acc, partials * 2, "split-KV partial results");
            partMax = DeviceMemory.Allocate<float>(acc, PagedAttention.PartialScalars(decodeArgs, rows) * 2, "split-KV maxima");
            partSum = DeviceMemory.Allocate<float>(acc, PagedAttention.PartialScalars(decodeArgs, rows) * 2, "split-KV sums");
        }
    }

    /// <summary>Runs one forward pass over <paramref name="kv"/> and times it on the compute stream.</summary>
    /// <param name="splitKvPartitionTokens">Decode rows use split-KV with partitions of this many tokens; 0 for the per-head kernel.</param>
    public ForwardTiming Run(DeviceKvStore kv, ForwardPlan plan, int maxBlocksPerSeq, int splitKvPartitionTokens)
    {
        var rows = plan.Rows;
        var maxContext = plan.RowPos.Take(rows).DefaultIfEmpty(0).Max() + 1;
        var hd = model.Heads * model.HeadDim;
        AttentionArgs Args(int layer, int partitionTokens) => new(kv.Layout, model.Heads, layer, maxBlocksPerSeq, QkvWidth, hd,
            partitionTokens > 0 ? partitionTokens : int.MaxValue, partitionTokens > 0 ? (maxContext + partitionTokens - 1) / partitionTokens : 1);
        Ensure(rows, plan.Sequences, maxBlocksPerSeq, Args(0, splitKvPartitionTokens));
        var stream = streams.Compute;
        rowSeq!.View.SubView(0, rows).CopyFromCPU(stream, plan.RowSeq.AsSpan(0, rows));
        rowPos!.View.SubView(0, rows).CopyFromCPU(stream, plan.RowPos.AsSpan(0, rows));
        tables!.View.SubView(0, plan.Tables.Length).CopyFromCPU(stream, plan.Tables);
        stream.Synchronize();

        var prefillTime = TimeSpan.Zero;
        var decodeTime = TimeSpan.Zero;
        var markers = new List<ProfilingMarker>();
        ProfilingMarker Mark()
        {
            var m = stream.AddProfilingMarker();
            markers.Add(m);
            return m;
        }
        var pairs = new List<(ProfilingMarker Start, ProfilingMarker End, bool Prefill)>();
        var start = Mark();
        for (var layer = 0; layer < model.Layers; layer++)
        {
            ProjectQkv(rows);
            var args = Args(layer, 0);
            append.Run(stream, args, rows, qkv!.View, kv.View, rowSeq.View, rowPos.View, tables.View);
            if (plan.PrefillRows > 0)
            {
                var s = Mark();
                attention.Run(stream, args, plan.PrefillRows, qkv.View, kv.View, rowSeq.View, rowPos.View, tables.View, attn!.View,
                    partMax!.View, partSum!.View, partAcc!.View);
                pairs.Add((s, Mark(), true));
            }
            if (plan.DecodeRows > 0)
            {
                var decodeArgs = Args(layer, splitKvPartitionTokens);
                var offset = plan.PrefillRows;
                var s = Mark();
                attention.Run(stream, decodeArgs, plan.DecodeRows, From<float>(qkv.View, (long)offset * QkvWidth), kv.View,
                    From<int>(rowSeq.View, offset), From<int>(rowPos.View, offset), tables.View, From<float>(attn!.View, (long)offset * hd),
                    partMax!.View, partSum!.View, partAcc!.View);
                pairs.Add((s, Mark(), false));
            }
            AfterAttention(rows);
        }
        gemm.Run(stream, new GemmShape(plan.Sampled, model.Vocab, model.Hidden, model.Hidden, model.Vocab), xOut!.View, wLm.View, logits!.View);
        var end = Mark();
        stream.Synchronize();
        foreach (var (s, e, prefill) in pairs)
        {
            if (prefill) prefillTime += e.MeasureFrom(s);
            else decodeTime += e.MeasureFrom(s);
        }
        var total = end.MeasureFrom(start);
        foreach (var m in markers) m.Dispose();
        return new ForwardTiming(total, prefillTime, decodeTime);
    }

    /// <summary>The QKV projection of <paramref name="rows"/> tokens (compute stream).</summary>
    private void ProjectQkv(int rows) =>
        gemm.Run(streams.Compute, new GemmShape(rows, QkvWidth, model.Hidden, model.Hidden, QkvWidth), xIn!.View, wQkv.View, qkv!.View);

    /// <summary>The output projection and the MLP with its activation (compute stream).</summary>
    private void AfterAttention(int rows)
    {
        var hd = model.Heads * model.HeadDim;
        var stream = streams.Compute;
        gemm.Run(stream, new GemmShape(rows, model.Hidden, hd, hd, model.Hidden), attn!.View, wO.View, xOut!.View);
        gemm.Run(stream, new GemmShape(rows, UpWidth, model.Hidden, model.Hidden, UpWidth), xOut.View, wUp.View, mlp!.View);
        gemm.Activate(stream, rows, model.Ffn, UpWidth, model.FfnKind == FfnKind.Swiglu, mlp.View);
        gemm.Run(stream, new GemmShape(rows, model.Hidden, model.Ffn, UpWidth, model.Hidden), mlp.View, wDown.View, xOut.View);
    }

    /// <summary>Makes room for a dense layer of <paramref name="tokens"/> tokens (outside any timing).</summary>
    public void PrepareDense(int tokens) =>
        Ensure(tokens, 1, 1, new AttentionArgs(new KvLayout(1, model.KvHeads, model.HeadDim, 16), model.Heads, 0, 1, QkvWidth, model.Heads * model.HeadDim, int.MaxValue, 1));

    /// <summary>Enqueues one layer's dense part for <paramref name="tokens"/> tokens (QKV, output projection, MLP) on the compute stream: the profile's dense table.</summary>
    public void EnqueueDenseLayer(int tokens)
    {
        ProjectQkv(tokens);
        AfterAttention(tokens);
    }

    private static ArrayView<T> From<T>(ArrayView<T> view, long offset) where T : unmanaged => view.SubView(offset, view.Length - offset);

    public void Dispose()
    {
        foreach (var b in scratch) b.Dispose();
        tables?.Dispose();
        partAcc?.Dispose();
        partMax?.Dispose();
        partSum?.Dispose();
        wQkv.Dispose();
        wO.Dispose();
        wUp.Dispose();
        wDown.Dispose();
        wLm.Dispose();
    }
}
