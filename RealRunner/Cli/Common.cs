using System.CommandLine;
using System.Text.Json;
using RealRunner.Device;
using Simulator.Cli;

namespace RealRunner.Cli;

/// <summary>Options and error handling shared by RealRunner's commands.</summary>
public static class Common
{
    public const int Ok = ExitCodes.Ok;
    public const int Failure = ExitCodes.Failure;
    public const int InvalidInput = ExitCodes.InvalidInput;

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
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

    /// <summary>Runs a command body as the simulator's CLI does (config errors exit 2, Ctrl+C 130); device errors also exit 2 with their message.</summary>
    public static int Guard(Func<int> body) => CliApp.Guard(() =>
    {
        try
        {
            return body();
        }
        catch (DeviceException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return InvalidInput;
        }
    });

    /// <summary>device.json: the device and what the run did that a reader must know.</summary>
    public static void WriteDevice(string path, DeviceInfo info, IReadOnlyDictionary<string, object> details) =>
        File.WriteAllText(path, JsonSerializer.Serialize(new { device = info, details }, Json) + "\n");
}
