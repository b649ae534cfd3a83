using ILGPU.Runtime;

namespace RealRunner.Device;

/// <summary>
/// One accelerator's streams: kernels on <see cref="Compute"/>, host-to-device and
/// device-to-host copies on their own streams, device-to-device and peer copies on a fourth, so
/// copies can overlap compute.
/// </summary>
public sealed class DeviceStreams : IDisposable
{
    public DeviceStreams(Accelerator accelerator)
    {
        Accelerator = accelerator;
        Compute = accelerator.CreateStream();
        HostToDevice = accelerator.CreateStream();
        DeviceToHost = accelerator.CreateStream();
        Peer = accelerator.CreateStream();
    }

    public Accelerator Accelerator { get; }

    public AcceleratorStream Compute { get; }

    public AcceleratorStream HostToDevice { get; }

    public AcceleratorStream DeviceToHost { get; }

    public AcceleratorStream Peer { get; }

    /// <summary>
    /// Enqueues <paramref name="work"/> on <paramref name="stream"/> between two profiling markers, waits for it and
    /// returns the time between the markers (device events on CUDA; host timestamps on the CPU accelerator).
    /// </summary>
    public static TimeSpan Measure(AcceleratorStream stream, Action work)
    {
        using var start = stream.AddProfilingMarker();
        work();
        using var end = stream.AddProfilingMarker();
        stream.Synchronize();
        return end.MeasureFrom(start);
    }

    public void Dispose()
    {
        Compute.Dispose();
        HostToDevice.Dispose();
        DeviceToHost.Dispose();
        Peer.Dispose();
    }
}
