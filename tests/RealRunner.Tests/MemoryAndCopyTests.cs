using ILGPU;
using ILGPU.Runtime;
using RealRunner.Device;
using RealRunner.Kernels;
using RealRunner.Memory;
using RealRunner.Transfers;
using Half = ILGPU.Half;

namespace RealRunner.Tests;

/// <summary>KV stores, the page-locked host pool and the copies between them move exactly the blocks asked for.</summary>
public sealed class MemoryAndCopyTests(CpuDevice device) : IClassFixture<CpuDevice>
{
    private Accelerator Acc => device.Session.Primary;

    private static readonly KvLayout Layout = new(layers: 2, kvHeads: 2, headDim: 8, blockSize: 4);

    private static void Fill(DeviceKvStore store, int block, float value) =>
        store.Block(block).CopyFromCPU(Enumerable.Repeat((Half)value, (int)Layout.BlockElements).ToArray());

    private static float[] Read(DeviceKvStore store, int block) => store.Block(block).GetAsArray().Select(h => (float)h).ToArray();

    [Fact]
    public void Blocks_Should_Go_To_The_Host_Pool_And_Back_Into_Other_Blocks_Unchanged()
    {
        using var streams = new DeviceStreams(Acc);
        using var source = new DeviceKvStore(Acc, Layout, 8, "src");
        using var destination = new DeviceKvStore(Acc, Layout, 8, "dst");
        using var pool = new HostKvPool(Acc, Layout.BlockElements, capacityBytes: 6 * Layout.BlockElements * 2, chunkBytes: 2 * Layout.BlockElements * 2);
        var copier = new KvCopier(_ => streams);
        for (var b = 0; b < 8; b++) Fill(source, b, b + 1);
        var owner = new object();

        var down = copier.ToHost(source, [5, 2, 7], pool, owner);
        Assert.Equal(3 * Layout.BlockElements * 2, down.Bytes);
        Assert.Equal(3, pool.UsedSlots);
        var up = copier.FromHost(pool, owner, destination, [0, 1, 6], release: true);

        Assert.Equal(0, pool.UsedSlots);
        Assert.All(Read(destination, 0), v => Assert.Equal(6f, v));
        Assert.All(Read(destination, 1), v => Assert.Equal(3f, v));
        Assert.All(Read(destination, 6), v => Assert.Equal(8f, v));
        Assert.All(Read(destination, 3), v => Assert.Equal(0f, v)); // untouched
        Assert.True(up.Time >= TimeSpan.Zero);
    }

    [Fact]
    public void Device_And_Staged_Copies_Should_Move_The_Same_Bytes_And_Say_When_Emulated()
    {
        using var streams = new DeviceStreams(Acc);
        using var a = new DeviceKvStore(Acc, Layout, 4, "a");
        using var b = new DeviceKvStore(Acc, Layout, 4, "b");
        using var pool = new HostKvPool(Acc, Layout.BlockElements, 1 << 20);
        using var staging = new StagingArea(Acc, Layout.BlockElements, "stage");
        var copier = new KvCopier(_ => streams);
        Fill(a, 0, 9);
        Fill(a, 1, 10);
        copier.DeviceToDevice(a, [0, 1], b, [3, 2]);
        Assert.All(Read(b, 3), v => Assert.Equal(9f, v));
        Assert.All(Read(b, 2), v => Assert.Equal(10f, v));

        var owner = new object();
        copier.ToHost(a, [1], pool, owner);
        copier.HostToStaging(pool, owner, staging);
        var hop = copier.StagingToDevice(staging, owner, b, [0]);
        Assert.True(hop.Emulated); // one device: the GPU-to-GPU hop ran inside it
        Assert.All(Read(b, 0), v => Assert.Equal(10f, v));
    }

    [Fact]
    public void A_Full_Host_Pool_And_A_Bad_Block_Should_Fail_With_Clear_Messages()
    {
        using var pool = new HostKvPool(Acc, Layout.BlockElements, capacityBytes: 3 * Layout.BlockElements * 2);
        pool.Take(new object(), 2);
        var e = Assert.Throws<DeviceException>(() => pool.Take(new object(), 2));
        Assert.Contains("host KV pool is full", e.Message);
        Assert.Contains("--host-pool-gib", e.Message);
        using var store = new DeviceKvStore(Acc, Layout, 2, "s");
        Assert.Throws<ArgumentOutOfRangeException>(() => store.Block(2));
    }
}
