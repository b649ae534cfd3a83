using ILGPU;
using ILGPU.Runtime;
using RealRunner.Kernels;
using Half = ILGPU.Half;

namespace RealRunner.Memory;

/// <summary>
/// The KV blocks of one (logical) GPU in device memory, laid out as <see cref="KvLayout"/> says.
/// Which block belongs to which request is the policy's <c>KvBlockManager</c>'s business (free
/// list and block tables); this holds the bytes its block ids point at.
/// </summary>
public sealed class DeviceKvStore : IDisposable
{
    private readonly MemoryBuffer1D<Half, Stride1D.Dense> buffer;

    public DeviceKvStore(Accelerator accelerator, KvLayout layout, int blocks, string name)
    {
        Accelerator = accelerator;
        Layout = layout;
        Blocks = blocks;
        buffer = DeviceMemory.Allocate<Half>(accelerator, blocks * layout.BlockElements, $"{name}'s KV store ({blocks} blocks)");
        // Zeroed, so that no block starts as NaN or denormal garbage (slow arithmetic on some devices).
        buffer.MemSetToZero();
        accelerator.Synchronize();
    }

    public Accelerator Accelerator { get; }

    public KvLayout Layout { get; }

    public int Blocks { get; }

    public ArrayView<Half> View => buffer.View;

    /// <summary>One block's elements (all layers' K and V of its tokens).</summary>
    public ArrayView<Half> Block(int block)
    {
        if ((uint)block >= (uint)Blocks) throw new ArgumentOutOfRangeException(nameof(block), block, $"the store holds blocks 0..{Blocks - 1}");
        return buffer.View.SubView(block * Layout.BlockElements, Layout.BlockElements);
    }

    public void Dispose() => buffer.Dispose();
}
