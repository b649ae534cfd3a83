using ILGPU;
using ILGPU.Runtime;
using RealRunner.Device;
using RealRunner.Kernels;
using RealRunner.Memory;
using RealRunner.Serving;
using Simulator.Calibration;
using Simulator.Specs;
using Half = ILGPU.Half;

namespace RealRunner.Profiling;

/// <summary>How KV lengths spread inside a profiled batch.</summary>
public enum Spread
{
    /// <summary>Every request at the mean.</summary>
    Uniform,

    /// <summary>Lognormal (sigma 1) around the mean: many short, a few long.</summary>
    Skewed,

    /// <summary>All at the mean but one at 8x the mean: the iteration-level bubble's worst case.</summary>
    Outlier,
}

/// <summary>What to measure: the grids of the profile.</summary>
public sealed record ProfileGrid(int[] Batches, int[] KvMeans, Spread[] Spreads, int[] DenseTokens, long[] CopyBytes, int Repeats, int SplitKvTokens)
{
    public static ProfileGrid For(bool cuda, bool quick) => (cuda, quick) switch
    {
        (true, false) => new([1, 8, 32, 64, 128, 256], [256, 1024, 4096], Enum.GetValues<Spread>(), [1, 8, 32, 128, 512, 2048],
            [64L << 10, 1L << 20, 16L << 20, 256L << 20], 10, 512),
        (true, true) => new([1, 16, 64], [512, 2048], Enum.GetValues<Spread>(), [1, 32, 512], [1L << 20, 64L << 20], 5, 512),
        (false, false) => new([1, 4, 16, 32], [64, 256, 1024], Enum.GetValues<Spread>(), [1, 8, 32, 128], [64L << 10, 1L << 20, 16L << 20], 3, 64),
        (false, true) => new([1, 4, 16], [64, 256], Enum.GetValues<Spread>(), [1, 8, 32], [64L << 10, 1L << 20], 5, 64),
    };
}

/// <summary>The profile's measurements and the GPU parameters fitted from them.</summary>
public sealed record Profile(IReadOnlyList<AttentionSample> Attention, IReadOnlyList<DenseSample> Dense, IReadOnlyList<LinkSample> Links, GpuCalibration Fitted,
    IReadOnlyList<string> Notes);

/// <summary>
/// Measures on the device: one layer's decode attention over batch sizes and KV-length spreads,
/// for both kernels; one layer's dense part over token counts; copy time over sizes for each link
/// (host to device, device to host, device to device, and peer when two devices are present). Every
/// figure is the median of repeated runs after a warm-up, timed with profiling markers on the stream.
/// </summary>
public sealed class Profiler(DeviceSession session, ModelSpec model, int blockSize = 16)
{
    private readonly Accelerator acc = session.Primary;

    public Profile Run(ProfileGrid grid, Action<string>? progress = null)
    {
        var notes = new List<string>();
        using var streams = new DeviceStreams(acc);
        var attention = MeasureAttention(grid, streams, progress);
        using var deviceModel = new DeviceModel(model, streams);
        var dense = grid.DenseTokens.Select(tokens =>
        {
            progress?.Invoke($"dense {tokens} tokens");
            deviceModel.PrepareDense(tokens);
            return new DenseSample(tokens, Median(grid.Repeats, streams.Compute, () => deviceModel.EnqueueDenseLayer(tokens)));
        }).ToList();
        var links = MeasureLinks(grid, streams, progress, notes);
        notes.Add(MeasureOverlap(grid, streams, deviceModel));
        return new Profile(attention, dense, links, Fit(attention, dense, links, notes), notes);
    }

    /// <summary>KV lengths of a batch with the given mean and spread (deterministic).</summary>
    public static int[] Lengths(int batch, int mean, Spread spread)
    {
        var random = new Random(batch * 7919 + mean);
        return spread switch
        {
            Spread.Uniform => Enumerable.Repeat(mean, batch).ToArray(),
            Spread.Skewed => Enumerable.Range(0, batch).Select(_ =>
            {
                var u1 = 1 - random.NextDouble();
                var u2 = random.NextDouble();
                var z = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
                return Math.Clamp((int)Math.Round(mean * Math.Exp(z - 0.5)), 1, mean * 8);
            }).ToArray(),
            _ => Enumerable.Range(0, batch).Select(i => i == batch / 2 ? mean * 8 : mean).ToArray(),
        };
    }

    private List<AttentionSample> MeasureAttention(ProfileGrid grid, DeviceStreams streams, Action<string>? progress)
    {
        var layout = new KvLayout(1, model.KvHeads, model.HeadDim, blockSize);
        var kernel = new PagedAttention(acc);
        var samples = new List<AttentionSample>();
        var maxLength = grid.KvMeans.Max() * 8;
        var maxBatch = grid.Batches.Max();
        var maxBlocks = (maxLength + blockSize - 1) / blockSize;
        var storeBlocks = grid.Batches.Max(b => grid.KvMeans.Max(m => grid.Spreads.Max(s => Lengths(b, m, s).Sum(l => (l + blockSize - 1) / blockSize))));
        using var store = new DeviceKvStore(acc, layout, storeBlocks, "the profile");
        var qStride = (model.Heads + 2 * model.KvHeads) * model.HeadDim;
        using var q = DeviceMemory.Allocate<float>(acc, (long)maxBatch * qStride, "queries");
        using var output = DeviceMemory.Allocate<float>(acc, (long)maxBatch * model.Heads * model.HeadDim, "attention output");
        var maxPartitions = (maxLength + grid.SplitKvTokens - 1) / grid.SplitKvTokens;
        using var partAcc = DeviceMemory.Allocate<float>(acc, (long)maxBatch * model.Heads * maxPartitions * model.HeadDim, "partials");
        using var partMax = DeviceMemory.Allocate<float>(acc, (long)maxBatch * model.Heads * maxPartitions, "partial maxima");
        using var partSum = DeviceMemory.Allocate<float>(acc, (long)maxBatch * model.Heads * maxPartitions, "partial sums");
        using var rowSeq = DeviceMemory.Allocate<int>(acc, maxBatch, "rows");
        using var rowPos = DeviceMemory.Allocate<int>(acc, maxBatch, "positions");
        using var tables = DeviceMemory.Allocate<int>(acc, (long)maxBatch * maxBlocks, "block tables");
        // Random data, never zeros: zeros can hide wrong indexing and can run faster than real data.
        var fill = new RandomFill(acc);
        fill.Fill(streams.Compute, store.View, 1);
        fill.Fill(streams.Compute, q.View, 2);
        streams.Compute.Synchronize();
        foreach (var batch in grid.Batches)
            foreach (var mean in grid.KvMeans)
                foreach (var spread in grid.Spreads)
                {
                    if (spread != Spread.Uniform && batch == 1) continue; // one request has no spread
                    var lengths = Lengths(batch, mean, spread);
                    var table = new int[batch * maxBlocks];
                    var next = 0;
                    for (var s = 0; s < batch; s++)
                        for (var b = 0; b < (lengths[s] + blockSize - 1) / blockSize; b++) table[s * maxBlocks + b] = next++;
                    rowSeq.View.SubView(0, batch).CopyFromCPU(Enumerable.Range(0, batch).ToArray());
                    rowPos.View.SubView(0, batch).CopyFromCPU(lengths.Select(l => l - 1).ToArray());
                    tables.View.SubView(0, table.Length).CopyFromCPU(table);
                    foreach (var split in new[] { false, true })
                    {
                        progress?.Invoke($"attention {(split ? "split_kv" : "per_head")} batch {batch} mean {mean} {spread}");
                        var partitions = split ? (lengths.Max() + grid.SplitKvTokens - 1) / grid.SplitKvTokens : 1;
                        var args = new AttentionArgs(layout, model.Heads, 0, maxBlocks, qStride, model.Heads * model.HeadDim,
                            split ? grid.SplitKvTokens : int.MaxValue, partitions);
                        var time = Median(grid.Repeats, streams.Compute, () => kernel.Run(streams.Compute, args, batch, q.View,
                            store.View, rowSeq.View, rowPos.View, tables.View, output.View, partMax.View, partSum.View, partAcc.View));
                        samples.Add(new AttentionSample(split ? "split_kv" : "per_head", batch, lengths.Average(), lengths.Max(), time));
                    }
                }
        return samples;
    }

    private List<LinkSample> MeasureLinks(ProfileGrid grid, DeviceStreams streams, Action<string>? progress, List<string> notes)
    {
        var samples = new List<LinkSample>();
        var largest = grid.CopyBytes.Max();
        using var device = DeviceMemory.Allocate<byte>(acc, largest, "copy source");
        using var device2 = DeviceMemory.Allocate<byte>(acc, largest, "copy destination");
        using var pinned = DeviceMemory.AllocatePinned<byte>(acc, (int)largest, "page-locked copy buffer");
        new Random(3).NextBytes(pinned.Span);
        device.View.CopyFrom(streams.HostToDevice, pinned.ArrayView);
        streams.HostToDevice.Synchronize();
        foreach (var bytes in grid.CopyBytes)
        {
            progress?.Invoke($"copies of {bytes} bytes");
            var d = device.View.SubView(0, bytes);
            var d2 = device2.View.SubView(0, bytes);
            var p = pinned.ArrayView.SubView(0, bytes);
            samples.Add(new LinkSample("h2d", bytes, Median(grid.Repeats, streams.HostToDevice, () => d.CopyFrom(streams.HostToDevice, p))));
            samples.Add(new LinkSample("d2h", bytes, Median(grid.Repeats, streams.DeviceToHost, () => d.CopyTo(streams.DeviceToHost, p))));
            samples.Add(new LinkSample("d2d", bytes, Median(grid.Repeats, streams.Peer, () => d2.CopyFrom(streams.Peer, d))));
        }
        if (session.Accelerators.Count > 1)
        {
            var other = session.Accelerators[1];
            using var remote = DeviceMemory.Allocate<byte>(other, largest, "peer copy destination");
            foreach (var bytes in grid.CopyBytes)
            {
                var d = device.View.SubView(0, bytes);
                var r = remote.View.SubView(0, bytes);
                samples.Add(new LinkSample("peer", bytes, Median(grid.Repeats, streams.Peer, () => r.CopyFrom(streams.Peer, d))));
            }
        }
        else notes.Add("one device: no peer copies measured (the prefetch path's GPU-to-GPU hop is emulated inside one device in runs)");
        return samples;
    }

    /// <summary>
    /// Whether a host-to-device copy on its own stream overlaps a dense layer on the compute stream:
    /// each alone, then both enqueued together (wall time until both streams are done).
    /// </summary>
    private string MeasureOverlap(ProfileGrid grid, DeviceStreams streams, DeviceModel model)
    {
        var tokens = grid.DenseTokens.Max();
        var bytes = grid.CopyBytes.Max();
        model.PrepareDense(tokens);
        using var device = DeviceMemory.Allocate<byte>(acc, bytes, "overlap copy destination");
        using var pinned = DeviceMemory.AllocatePinned<byte>(acc, (int)bytes, "overlap copy source");
        var view = device.View.SubView(0, bytes);
        void Compute() => model.EnqueueDenseLayer(tokens);
        void Copy() => view.CopyFrom(streams.HostToDevice, pinned.ArrayView);
        double Wall(Action enqueue)
        {
            enqueue();
            streams.Compute.Synchronize();
            streams.HostToDevice.Synchronize();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            enqueue();
            streams.Compute.Synchronize();
            streams.HostToDevice.Synchronize();
            return clock.Elapsed.TotalMicroseconds;
        }
        var compute = Wall(Compute);
        var copy = Wall(Copy);
        var both = Wall(() =>
        {
            Copy();
            Compute();
        });
        var hidden = Math.Clamp((compute + copy - both) / Math.Min(compute, copy), 0, 1);
        return $"overlap: a dense layer of {tokens} tokens took {compute:F0} us, a {bytes} B host-to-device copy {copy:F0} us, both on their own streams {both:F0} us ({hidden:P0} of the shorter hidden)";
    }

    /// <summary>
    /// GPU parameters from the samples: HBM bandwidth from the largest device-to-device copy (bytes read plus
    /// written); dense TFLOP/s from the densest dense sample; the per-block rate from the longest single-request
    /// per-head attention (a block per KV head, all running at once); launch cost from the smallest attention.
    /// </summary>
    private GpuCalibration Fit(List<AttentionSample> attention, List<DenseSample> dense, List<LinkSample> links, List<string> notes)
    {
        var d2d = links.Where(l => l.Link == "d2d").MaxBy(l => l.Bytes);
        double? hbm = d2d.TimeUs > 0 ? 2.0 * d2d.Bytes / (d2d.TimeUs * 1e3) : null;
        var flops = dense.Select(s => 2.0 * s.Tokens * model.ParamsPerLayer / (s.TimeUs * 1e3)).DefaultIfEmpty(0).Max();
        var single = attention.Where(a => a.Kernel == "per_head" && a.Batch == 1).MaxBy(a => a.KvMax);
        double? perBlock = single.TimeUs > 0 ? single.KvMax * 2.0 * model.HeadDim * model.DtypeBytes / (single.TimeUs * 1e3) : null;
        var smallest = attention.Where(a => a.Kernel == "per_head").MinBy(a => a.Batch * a.KvMean);
        notes.Add($"hbm_bandwidth from a {d2d.Bytes} B device copy; dense_tflops from the best of {dense.Count} dense samples; per-block bandwidth from one request of {single.KvMax:F0} tokens; launch from batch {smallest.Batch} x {smallest.KvMean:F0} tokens");
        return new GpuCalibration(hbm, flops > 0 ? flops / 1000 : null, perBlock, null, smallest.TimeUs);
    }

    /// <summary>Back-to-back executions per timed sample aim at this long, so idle gaps and wake-ups do not count (as in a run, where kernels queue one after another).</summary>
    private static readonly TimeSpan SampleTarget = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// Median time in microseconds of one execution of <paramref name="work"/>: after a warm-up, each of
    /// <paramref name="repeats"/> samples times enough back-to-back executions to last about 5 ms (at most 100) and divides.
    /// </summary>
    private static double Median(int repeats, AcceleratorStream stream, Action work)
    {
        var single = DeviceStreams.Measure(stream, work);
        var inner = (int)Math.Clamp(SampleTarget.TotalMicroseconds / Math.Max(single.TotalMicroseconds, 0.1), 1, 100);
        var times = Enumerable.Range(0, Math.Max(1, repeats))
            .Select(_ => DeviceStreams.Measure(stream, () =>
            {
                for (var i = 0; i < inner; i++) work();
            }).TotalMicroseconds / inner)
            .Order().ToArray();
        return times.Length % 2 == 1 ? times[times.Length / 2] : (times[times.Length / 2 - 1] + times[times.Length / 2]) / 2;
    }
}
