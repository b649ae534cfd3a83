using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace RealRunner.Memory;

/// <summary>
/// The host KV pool in page-locked memory: block-sized slots in chunks (a page-locked array's
/// length is an int, so a large pool is many arrays), allocated as the pool fills, up to a
/// capacity. Each request's KV in the pool is a list of slots, one per block.
/// </summary>
public sealed class HostKvPool : IDisposable
{
    private readonly Accelerator accelerator;
    private readonly long blockElements;
    private readonly int slotsPerChunk;
    private readonly List<PageLockedArray1D<Half>> chunks = [];
    private readonly Stack<int> free = new();
    private readonly Dictionary<object, List<int>> owners = new(ReferenceEqualityComparer.Instance);
    private int allocatedSlots;

    public HostKvPool(Accelerator accelerator, long blockElements, long capacityBytes, long chunkBytes = 256L << 20)
    {
        if (blockElements * 2 > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(blockElements), "a KV block must fit one page-locked array");
        this.accelerator = accelerator;
        this.blockElements = blockElements;
        BlockBytes = blockElements * 2;
        CapacitySlots = (int)Math.Min(int.MaxValue, capacityBytes / BlockBytes);
        slotsPerChunk = (int)Math.Clamp(chunkBytes / BlockBytes, 1, int.MaxValue / blockElements);
    }

    public long BlockBytes { get; }

    public int CapacitySlots { get; }

    public int UsedSlots => allocatedSlots - free.Count;

    public long CapacityBytes => CapacitySlots * BlockBytes;

    /// <summary>Page-locked bytes allocated so far.</summary>
    public long AllocatedBytes => allocatedSlots * BlockBytes;

    /// <summary>Takes <paramref name="blocks"/> slots for <paramref name="owner"/>'s KV; fails with a clear message when the pool is full.</summary>
    public IReadOnlyList<int> Take(object owner, int blocks)
    {
        if (owners.ContainsKey(owner)) throw new InvalidOperationException("this KV is already in the host pool");
        if (UsedSlots + blocks > CapacitySlots)
            throw new Device.DeviceException(
                $"the host KV pool is full: {blocks} blocks needed, {CapacitySlots - UsedSlots} free of {CapacitySlots} ({CapacityBytes / (1024.0 * 1024 * 1024):F2} GiB); raise --host-pool-gib");
        while (free.Count < blocks)
        {
            var first = chunks.Count * slotsPerChunk;
            var slots = Math.Min(slotsPerChunk, CapacitySlots - first);
            chunks.Add(DeviceMemory.AllocatePinned<Half>(accelerator, (int)(slots * blockElements), "a host KV pool chunk"));
            allocatedSlots += slots;
            for (var s = first + slots - 1; s >= first; s--) free.Push(s);
        }
        var list = new List<int>(blocks);
        for (var i = 0; i < blocks; i++) list.Add(free.Pop());
        owners[owner] = list;
        return list;
    }

    /// <summary>The slots holding <paramref name="owner"/>'s KV.</summary>
    public IReadOnlyList<int> SlotsOf(object owner) =>
        owners.TryGetValue(owner, out var slots) ? slots : throw new InvalidOperationException("this KV is not in the host pool");

    /// <summary>Returns <paramref name="owner"/>'s slots.</summary>
    public void Release(object owner)
    {
        if (!owners.Remove(owner, out var slots)) throw new InvalidOperationException("this KV is not in the host pool");
        foreach (var s in slots) free.Push(s);
    }

    /// <summary>A slot's page-locked elements, as a view copies can use.</summary>
    public ArrayView<Half> Slot(int slot) => chunks[slot / slotsPerChunk].ArrayView.SubView(slot % slotsPerChunk * blockElements, blockElements);

    public void Dispose()
    {
        foreach (var chunk in chunks) chunk.Dispose();
    }
}
