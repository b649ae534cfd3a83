using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace RealRunner.Kernels;

/// <summary>The shape of one GEMM: C[M x N] = A[M x K] * W[K x N]; A and C fp32 row-major with the given row strides, W fp16 row-major.</summary>
public readonly struct GemmShape
{
    public GemmShape(int m, int n, int k, int lda, int ldc)
    {
        M = m;
        N = n;
        K = k;
        Lda = lda;
        Ldc = ldc;
    }

    public int M { get; }

    public int N { get; }

    public int K { get; }

    public int Lda { get; }

    public int Ldc { get; }
}

/// <summary>
/// The dense-layer stand-in's GEMM: fp16 weights, fp32 activations and accumulation, tiled: a
/// group of 8 x 8 threads computes a 32 x 32 tile of C, each thread 4 x 4 values, staging
/// 32 x 16 of A and 16 x 32 of W in shared memory per step, so W is read M/32 times, not M.
/// Also the MLP activation (GELU, or SwiGLU on a [gate | up] row). The flat variant (one thread
/// per element of C, no shared memory or barriers) is what the CPU accelerator runs: its grouped
/// kernels are about 100x slower there.
/// </summary>
public sealed class DenseGemm
{
    public const int Tile = 32;
    private const int Step = 16;
    private const int Threads = 8;
    private const int PerThread = Tile / Threads;

    private readonly Action<AcceleratorStream, KernelConfig, GemmShape, ArrayView<float>, ArrayView<Half>, ArrayView<float>> gemm;
    private readonly Action<AcceleratorStream, Index1D, int, int, int, ArrayView<float>> activation;
    private readonly Action<AcceleratorStream, Index2D, GemmShape, ArrayView<float>, ArrayView<Half>, ArrayView<float>> flat;

    /// <param name="tiled">The tiled kernel (default on CUDA) or the flat one (default on the CPU accelerator).</param>
    public DenseGemm(Accelerator accelerator, bool? tiled = null)
    {
        Tiled = tiled ?? accelerator.AcceleratorType == AcceleratorType.Cuda;
        flat = accelerator.LoadAutoGroupedKernel<Index2D, GemmShape, ArrayView<float>, ArrayView<Half>, ArrayView<float>>(FlatKernel);
        gemm = accelerator.LoadKernel<GemmShape, ArrayView<float>, ArrayView<Half>, ArrayView<float>>(GemmKernel);
        activation = accelerator.LoadAutoGroupedKernel<Index1D, int, int, int, ArrayView<float>>(ActivationKernel);
    }

    public bool Tiled { get; }

    public void Run(AcceleratorStream stream, GemmShape s, ArrayView<float> a, ArrayView<Half> w, ArrayView<float> c)
    {
        if (s.M == 0) return;
        if (!Tiled)
        {
            flat(stream, new Index2D(s.N, s.M), s, a, w, c);
            return;
        }
        var grid = new Index2D((s.N + Tile - 1) / Tile, (s.M + Tile - 1) / Tile);
        gemm(stream, new KernelConfig(grid, new Index2D(Threads, Threads)), s, a, w, c);
    }

    /// <summary>
    /// In place on rows of <paramref name="width"/> values (stride <paramref name="stride"/>): GELU (tanh form), or with
    /// <paramref name="swiglu"/> silu(gate) x up where the row holds [gate (width) | up (width)], the result in the gate half.
    /// </summary>
    public void Activate(AcceleratorStream stream, int rows, int width, int stride, bool swiglu, ArrayView<float> x)
    {
        if (rows > 0) activation(stream, rows * width, width, stride, swiglu ? 1 : 0, x);
    }

    private static void GemmKernel(GemmShape s, ArrayView<float> a, ArrayView<Half> w, ArrayView<float> c)
    {
        var tileA = SharedMemory.Allocate<float>(Tile * Step);
        var tileW = SharedMemory.Allocate<float>(Step * Tile);
        var tx = Group.IdxX;
        var ty = Group.IdxY;
        var rowBase = Grid.IdxY * Tile;
        var colBase = Grid.IdxX * Tile;
        var lane = ty * Threads + tx;
        var acc = LocalMemory.Allocate<float>(PerThread * PerThread);
        for (var i = 0; i < PerThread * PerThread; i++) acc[i] = 0f;
        for (var k0 = 0; k0 < s.K; k0 += Step)
        {
            // 64 threads load 512 values of each tile: 8 apiece.
            for (var e = lane; e < Tile * Step; e += Threads * Threads)
            {
                var r = e / Step;
                var k = e % Step;
                var row = rowBase + r;
                tileA[e] = row < s.M && k0 + k < s.K ? a[(long)row * s.Lda + k0 + k] : 0f;
                var kw = e / Tile;
                var col = colBase + e % Tile;
                tileW[e] = k0 + kw < s.K && col < s.N ? (float)w[(long)(k0 + kw) * s.N + col] : 0f;
            }
            Group.Barrier();
            for (var k = 0; k < Step; k++)
                for (var i = 0; i < PerThread; i++)
                {
                    var av = tileA[(ty * PerThread + i) * Step + k];
                    for (var j = 0; j < PerThread; j++) acc[i * PerThread + j] += av * tileW[k * Tile + tx * PerThread + j];
                }
            Group.Barrier();
        }
        for (var i = 0; i < PerThread; i++)
        {
            var row = rowBase + ty * PerThread + i;
            if (row >= s.M) continue;
            for (var j = 0; j < PerThread; j++)
            {
                var col = colBase + tx * PerThread + j;
                if (col < s.N) c[(long)row * s.Ldc + col] = acc[i * PerThread + j];
            }
        }
    }

    private static void FlatKernel(Index2D index, GemmShape s, ArrayView<float> a, ArrayView<Half> w, ArrayView<float> c)
    {
        var col = index.X;
        var row = index.Y;
        var acc = 0f;
        for (var k = 0; k < s.K; k++) acc += a[(long)row * s.Lda + k] * (float)w[(long)k * s.N + col];
        c[(long)row * s.Ldc + col] = acc;
    }

    private static void ActivationKernel(Index1D index, int width, int stride, int swiglu, ArrayView<float> x)
    {
        int i = index;
        var at = (long)(i / width) * stride + i % width;
        var v = x[at];
        x[at] = swiglu == 1 ? v / (1f + XMath.Exp(-v)) * x[at + width] : Gelu(v);
    }

    private static float Gelu(float v) => 0.5f * v * (1f + XMath.Tanh(0.7978845608f * (v + 0.044715f * v * v * v)));

    /// <summary>The plain C# reference GEMM (double accumulation).</summary>
    public static float[] Reference(GemmShape s, float[] a, Half[] w, float[] c)
    {
        var result = (float[])c.Clone();
        for (var row = 0; row < s.M; row++)
            for (var col = 0; col < s.N; col++)
            {
                double acc = 0;
                for (var k = 0; k < s.K; k++) acc += a[row * s.Lda + k] * (double)(float)w[k * s.N + col];
                result[row * s.Ldc + col] = (float)acc;
            }
        return result;
    }

    /// <summary>The plain C# reference activation.</summary>
    public static float[] ActivationReference(int rows, int width, int stride, bool swiglu, float[] x)
    {
        var result = (float[])x.Clone();
        for (var r = 0; r < rows; r++)
            for (var i = 0; i < width; i++)
            {
                var at = r * stride + i;
                double v = x[at];
                result[at] = swiglu
                    ? (float)(v / (1 + Math.Exp(-v)) * x[at + width])
                    : (float)(0.5 * v * (1 + Math.Tanh(0.7978845608 * (v + 0.044715 * v * v * v))));
            }
        return result;
    }
}
