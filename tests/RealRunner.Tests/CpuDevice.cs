using RealRunner.Device;

namespace RealRunner.Tests;

/// <summary>One CPU-accelerator session shared by a test class (kernels compile once per session).</summary>
public sealed class CpuDevice : IDisposable
{
    public DeviceSession Session { get; } = DeviceSession.Open(BackendChoice.Cpu);

    public void Dispose() => Session.Dispose();
}
