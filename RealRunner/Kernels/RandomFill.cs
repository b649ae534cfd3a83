using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace RealRunner.Kernels;

/// <summary>
/// Fills device memory with pseudo-random values in [-1, 1) from a hash of the index and a seed,
/// on the device (gigabytes of KV need no host copy). Profiles time on such data, never on zeros.
/// </summary>
public sealed class RandomFill(Accelerator accelerator)
{
    private readonly Action<AcceleratorStream, Index1D, ArrayView<Half>, long, uint> half =
        accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<Half>, long, uint>(HalfKernel);
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, long, uint> single =
        accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, long, uint>(FloatKernel);

    /// <summary>Elements per launch (an Index1D is an int).</summary>
    private const long Chunk = 1L << 30;

    public void Fill(AcceleratorStream stream, ArrayView<Half> view, uint seed)
    {
        for (long start = 0; start < view.Length; start += Chunk)
            half(stream, (int)Math.Min(Chunk, view.Length - start), view.SubView(start, Math.Min(Chunk, view.Length - start)), start, seed);
    }

    public void Fill(AcceleratorStream stream, ArrayView<float> view, uint seed)
    {
        for (long start = 0; start < view.Length; start += Chunk)
            single(stream, (int)Math.Min(Chunk, view.Length - start), view.SubView(start, Math.Min(Chunk, view.Length - start)), start, seed);
    }

    /// <summary>A value in [-1, 1) for index <paramref name="i"/> (a 32-bit integer hash, the same on every backend).</summary>
    public static float Value(long i, uint seed)
    {
        var x = (uint)i ^ (uint)(i >> 32) * 0x9E3779B9u ^ seed * 0x85EBCA6Bu;
        x ^= x >> 16;
        x *= 0x7FEB352Du;
        x ^= x >> 15;
        x *= 0x846CA68Bu;
        x ^= x >> 16;
        return (x >> 8) * (2f / 16777216f) - 1f;
    }

    private static void HalfKernel(Index1D index, ArrayView<Half> view, long offset, uint seed) => view[index] = (Half)Value(offset + index, seed);

    private static void FloatKernel(Index1D index, ArrayView<float> view, long offset, uint seed) => view[index] = Value(offset + index, seed);
}
