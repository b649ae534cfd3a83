using ILGPU;
using ILGPU.Runtime;
using RealRunner.Device;

namespace RealRunner.Memory;

/// <summary>Allocations that fail with a message naming what did not fit, instead of a crash.</summary>
public static class DeviceMemory
{
    public static MemoryBuffer1D<T, Stride1D.Dense> Allocate<T>(Accelerator accelerator, long length, string what) where T : unmanaged
    {
        var bytes = length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        try
        {
            return accelerator.Allocate1D<T>(Math.Max(1, length));
        }
        catch (Exception e) when (e is not DeviceException)
        {
            throw new DeviceException($"cannot allocate {what} ({bytes / (1024.0 * 1024):F1} MiB) on {accelerator.Name} ({accelerator.MemorySize / (1024.0 * 1024 * 1024):F1} GiB): {e.Message}. Use fewer KV blocks (--kv-blocks) or a smaller model.");
        }
    }

    public static PageLockedArray1D<T> AllocatePinned<T>(Accelerator accelerator, int length, string what) where T : unmanaged
    {
        try
        {
            return accelerator.AllocatePageLocked1D<T>(length);
        }
        catch (Exception e) when (e is not DeviceException)
        {
            throw new DeviceException($"cannot allocate {what} ({(long)length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>() / (1024.0 * 1024):F1} MiB of page-locked host memory): {e.Message}. Lower --host-pool-gib.");
        }
    }
}
