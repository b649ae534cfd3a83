using System.Runtime.InteropServices;
using System.Runtime.Loader;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace RealRunner.Device;

/// <summary>Which ILGPU backend to run on.</summary>
public enum BackendChoice
{
    /// <summary>CUDA when a device is found, else the CPU accelerator (with a printed notice).</summary>
    Auto,
    Cuda,
    Cpu,
}

/// <summary>What a run executed on; written into every output.</summary>
public sealed record DeviceInfo(string Backend, string Name, string Driver, long MemoryBytes, int Devices, bool PeerAccess, string? Notice)
{
    public string Describe() =>
        $"{Backend}: {Name} ({Devices} device{(Devices == 1 ? "" : "s")}, {MemoryBytes / (1024.0 * 1024 * 1024):F1} GiB, {Driver}{(PeerAccess ? ", peer access" : "")})";
}

/// <summary>
/// An ILGPU context and its accelerators: every CUDA device (with peer access between them when
/// possible), or the CPU accelerator in parallel mode with groups of up to 128 threads.
/// </summary>
public sealed class DeviceSession : IDisposable
{
    private static int resolverInstalled;

    private DeviceSession(Context context, IReadOnlyList<Accelerator> accelerators, DeviceInfo info)
    {
        Context = context;
        Accelerators = accelerators;
        Info = info;
    }

    public Context Context { get; }

    public IReadOnlyList<Accelerator> Accelerators { get; }

    public Accelerator Primary => Accelerators[0];

    public DeviceInfo Info { get; }

    public bool IsCuda => Info.Backend == "cuda";

    public static DeviceSession Open(BackendChoice choice)
    {
        if (choice != BackendChoice.Cpu) InstallCudaResolver();
        var context = Context.Create(b => b.CPU(new CPUDevice(32, 4, 1)).Cuda().EnableAlgorithms().Profiling());
        var cuda = context.GetCudaDevices();
        if (choice == BackendChoice.Cuda && cuda.Count == 0)
        {
            context.Dispose();
            throw new DeviceException("--backend cuda: no CUDA device found (the driver library libcuda.so.1 was looked for; is an NVIDIA driver installed and a GPU visible?)");
        }
        if (choice != BackendChoice.Cpu && cuda.Count > 0)
        {
            var accelerators = new List<Accelerator>();
            foreach (var device in cuda) accelerators.Add(device.CreateCudaAccelerator(context));
            var peer = false;
            if (accelerators.Count > 1)
            {
                peer = true;
                for (var i = 0; i < accelerators.Count; i++)
                    for (var j = 0; j < accelerators.Count; j++)
                        if (i != j && accelerators[i].CanAccessPeer(accelerators[j])) accelerators[i].EnablePeerAccess(accelerators[j]);
                        else if (i != j) peer = false;
            }
            var first = (CudaAccelerator)accelerators[0];
            var info = new DeviceInfo("cuda", first.Name, $"CUDA driver {first.DriverVersion}, compute capability {first.Architecture}", first.MemorySize,
                accelerators.Count, peer, null);
            return new DeviceSession(context, accelerators, info);
        }
        var cpu = context.CreateCPUAccelerator(0, CPUAcceleratorMode.Parallel);
        var notice = choice == BackendChoice.Auto ? "no CUDA device found: running on ILGPU's CPU accelerator (timings say nothing about a GPU)" : null;
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        var cpuInfo = new DeviceInfo("cpu", $"ILGPU CPU accelerator ({Environment.ProcessorCount} cores)",
            $"ILGPU {typeof(Context).Assembly.GetName().Version}, .NET {Environment.Version}", memory, 1, false, notice);
        return new DeviceSession(context, [cpu], cpuInfo);
    }

    /// <summary>.NET looks for libcuda.so; many hosts have only libcuda.so.1, and ILGPU then silently finds no device.</summary>
    private static void InstallCudaResolver()
    {
        if (Interlocked.Exchange(ref resolverInstalled, 1) == 1 || !OperatingSystem.IsLinux()) return;
        AssemblyLoadContext.Default.ResolvingUnmanagedDll += (_, name) =>
            name == "cuda" && NativeLibrary.TryLoad("libcuda.so.1", out var handle) ? handle : IntPtr.Zero;
    }

    public void Dispose()
    {
        foreach (var accelerator in Accelerators) accelerator.Dispose();
        Context.Dispose();
    }
}

/// <summary>A device problem the user can act on (no device, not enough memory); printed, exit code 2.</summary>
public sealed class DeviceException(string message) : Exception(message);
