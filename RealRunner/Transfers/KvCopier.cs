using ILGPU;
using ILGPU.Runtime;
using RealRunner.Device;
using RealRunner.Memory;
using Half = ILGPU.Half;

namespace RealRunner.Transfers;

/// <summary>A measured copy: how long the device took and how many bytes moved.</summary>
public readonly record struct CopyTiming(TimeSpan Time, long Bytes, bool Emulated);

/// <summary>
/// Copies of whole KV blocks: device to host pool and back on the copy streams, device to
/// device on the peer stream (a real peer copy when the blocks live on two accelerators with peer
/// access; a copy inside one device otherwise), and through a GPU's staging area (the prefetch-for-GPU
/// path). Each copy is timed on its stream.
/// </summary>
public sealed class KvCopier(Func<Accelerator, DeviceStreams> streamsOf)
{
    public CopyTiming ToHost(DeviceKvStore source, IReadOnlyList<int> blocks, HostKvPool pool, object owner)
    {
        var slots = pool.Take(owner, blocks.Count);
        var stream = streamsOf(source.Accelerator).DeviceToHost;
        var time = DeviceStreams.Measure(stream, () =>
        {
            for (var i = 0; i < blocks.Count; i++) source.Block(blocks[i]).CopyTo(stream, pool.Slot(slots[i]));
        });
        return new CopyTiming(time, blocks.Count * pool.BlockBytes, false);
    }

    /// <summary>Copies <paramref name="owner"/>'s pooled KV into <paramref name="blocks"/>; <paramref name="release"/> frees its slots after.</summary>
    public CopyTiming FromHost(HostKvPool pool, object owner, DeviceKvStore destination, IReadOnlyList<int> blocks, bool release)
    {
        var slots = pool.SlotsOf(owner);
        var count = Math.Min(slots.Count, blocks.Count);
        var stream = streamsOf(destination.Accelerator).HostToDevice;
        var time = DeviceStreams.Measure(stream, () =>
        {
            for (var i = 0; i < count; i++) destination.Block(blocks[i]).CopyFrom(stream, pool.Slot(slots[i]));
        });
        if (release) pool.Release(owner);
        return new CopyTiming(time, count * pool.BlockBytes, false);
    }

    /// <summary>Block to block; across accelerators this is a peer copy (issued on the destination's peer stream).</summary>
    public CopyTiming DeviceToDevice(DeviceKvStore source, IReadOnlyList<int> from, DeviceKvStore destination, IReadOnlyList<int> to)
    {
        var count = Math.Min(from.Count, to.Count);
        var stream = streamsOf(destination.Accelerator).Peer;
        var time = DeviceStreams.Measure(stream, () =>
        {
            for (var i = 0; i < count; i++) destination.Block(to[i]).CopyFrom(stream, source.Block(from[i]));
        });
        return new CopyTiming(time, count * source.Layout.BlockElements * 2, false);
    }

    /// <summary>Host pool into a staging buffer on a device (first hop of the prefetch path); the slots stay taken.</summary>
    public CopyTiming HostToStaging(HostKvPool pool, object owner, StagingArea staging)
    {
        var slots = pool.SlotsOf(owner);
        staging.Hold(owner, slots.Count);
        var stream = streamsOf(staging.Accelerator).HostToDevice;
        var time = DeviceStreams.Measure(stream, () =>
        {
            for (var i = 0; i < slots.Count; i++) staging.Block(owner, i).CopyFrom(stream, pool.Slot(slots[i]));
        });
        return new CopyTiming(time, slots.Count * pool.BlockBytes, false);
    }

    /// <summary>
    /// Staging buffer into the destination's blocks (second hop): a peer copy when they are on two
    /// accelerators; on one device a copy through the second stream, reported as emulated.
    /// </summary>
    public CopyTiming StagingToDevice(StagingArea staging, object owner, DeviceKvStore destination, IReadOnlyList<int> blocks)
    {
        var count = Math.Min(staging.BlocksOf(owner), blocks.Count);
        var stream = streamsOf(destination.Accelerator).Peer;
        var time = DeviceStreams.Measure(stream, () =>
        {
            for (var i = 0; i < count; i++) destination.Block(blocks[i]).CopyFrom(stream, staging.Block(owner, i));
        });
        staging.Release(owner);
        return new CopyTiming(time, count * destination.Layout.BlockElements * 2, ReferenceEquals(staging.Accelerator, destination.Accelerator));
    }
}

/// <summary>
/// Device memory a GPU stages other GPUs' incoming KV in: a buffer per staged request, so that it
/// takes none of that GPU's KV blocks (as in the simulator). Allocation happens outside the timed copies.
/// </summary>
public sealed class StagingArea(Accelerator accelerator, long blockElements, string name) : IDisposable
{
    private readonly Dictionary<object, MemoryBuffer1D<Half, Stride1D.Dense>> held = new(ReferenceEqualityComparer.Instance);

    public Accelerator Accelerator { get; } = accelerator;

    public void Hold(object owner, int blocks) =>
        held.Add(owner, DeviceMemory.Allocate<Half>(Accelerator, blocks * blockElements, $"{name}'s staging buffer ({blocks} blocks)"));

    public int BlocksOf(object owner) => (int)(held[owner].Length / blockElements);

    public ArrayView<Half> Block(object owner, int index) => held[owner].View.SubView(index * blockElements, blockElements);

    public void Release(object owner)
    {
        if (held.Remove(owner, out var buffer)) buffer.Dispose();
    }

    public void Dispose()
    {
        foreach (var buffer in held.Values) buffer.Dispose();
    }
}
