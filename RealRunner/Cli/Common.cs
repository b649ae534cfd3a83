using System.CommandLine;
using System.Text.Json;
using RealRunner.Device;
using Simulator.Config;

namespace RealRunner.Cli;

/// <summary>Options and error handling shared by RealRunner's commands.</summary>
public static class Common
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int InvalidInput = 2;
    public const int Interrupted = 130;

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static Option<BackendChoice> BackendOption() => new("--backend")
    {
        Description = "auto (CUDA when a device is found, else the CPU accelerator), cuda or cpu",
        DefaultValueFactory = _ => BackendChoice.Auto,
    };

    public static Option<DirectoryInfo?> OutOption(string what) => new("--out") { Description = what };

    /// <summary>Opens the device and prints what it is (and any notice, such as the CPU fallback).</summary>
    public static DeviceSession Open(BackendChoice choice)
    {
        var session = DeviceSession.Open(choice);
        Console.WriteLine($"device: {session.Info.Describe()}");
        if (session.Info.Notice is { } notice) Console.WriteLine($"notice: {notice}");
        return session;
    }

    /// <summary>Runs a command body: config and device errors print a message and exit 2; Ctrl+C exits 130 with nothing partial written.</summary>
    public static int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (ConfigException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return InvalidInput;
        }
        catch (DeviceException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return InvalidInput;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("interrupted: no partial results were written");
            return Interrupted;
        }
    }

    /// <summary>device.json: the device and what the run did that a reader must know.</summary>
    public static void WriteDevice(string path, DeviceInfo info, IReadOnlyDictionary<string, object> details) =>
        File.WriteAllText(path, JsonSerializer.Serialize(new { device = info, details }, Json) + "\n");
}
