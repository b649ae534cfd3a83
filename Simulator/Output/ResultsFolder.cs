using System.Diagnostics;

namespace Simulator.Output;

/// <summary>
/// Writes results into a hidden staging folder beside the target and moves it into place only
/// when complete, so an interrupted, killed or failed run never leaves half a result under the
/// target's name. Staging folders carry the host and process id, so a later run can remove the
/// ones a killed process left behind. An existing target is replaced only when it is a results folder
/// (<see cref="ResultsTarget"/>); every folder written here is marked as one.
/// </summary>
public static class ResultsFolder
{
    private const string PartialMarker = ".partial-";

    public static void WriteAtomically(string target, Action<string> write) => Write(target, write, replace: true);

    /// <summary>
    /// As <see cref="WriteAtomically"/>, but if the target appears meanwhile (another process
    /// wrote the same deterministic result) this one is discarded; false then.
    /// </summary>
    public static bool WriteIfAbsent(string target, Action<string> write) => Write(target, write, replace: false);

    /// <summary>Writes a file by writing a sibling temporary file and renaming it over the target.</summary>
    public static void WriteFileAtomically(string path, Action<string> write)
    {
        var temp = $"{path}{PartialMarker}{Environment.MachineName}-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}";
        try
        {
            write(temp);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Removes staging folders and files under <paramref name="dir"/> left by dead processes of this host.</summary>
    public static int RemoveStale(string dir)
    {
        if (!Directory.Exists(dir)) return 0;
        var removed = 0;
        var prefix = $"{PartialMarker}{Environment.MachineName}-";
        foreach (var entry in Directory.EnumerateFileSystemEntries(dir))
        {
            var name = Path.GetFileName(entry);
            var at = name.IndexOf(prefix, StringComparison.Ordinal);
            if (at < 0) continue;
            var rest = name[(at + prefix.Length)..];
            var pidText = rest.Split('-', '.')[0];
            if (!int.TryParse(pidText, out var pid) || IsAlive(pid)) continue;
            if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true);
            else File.Delete(entry);
            removed++;
        }
        return removed;
    }

    private static bool IsAlive(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static bool Write(string target, Action<string> write, bool replace)
    {
        var full = Path.GetFullPath(target);
        try
        {
            return Write(full, write, replace, Path.GetDirectoryName(full)!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Name the results folder: the path in .NET's message is often the hidden staging folder's.
            throw new IOException($"writing results to '{full}': {e.Message}", e);
        }
    }

    private static bool Write(string full, Action<string> write, bool replace, string parent)
    {
        ResultsTarget.Check(full);
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(full)}{PartialMarker}{Environment.MachineName}-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}");
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);
        try
        {
            write(staging);
            if (!ResultsTarget.InsideResults(full)) ResultsTarget.Mark(staging);
            if (!Directory.Exists(full))
            {
                try
                {
                    Directory.Move(staging, full);
                    return true;
                }
                catch (IOException) when (Directory.Exists(full) && !replace)
                {
                    return false;
                }
            }
            if (!replace) return false;
            ResultsTarget.Check(full); // it may have appeared while this run was writing
            var old = $"{staging}.old";
            Directory.Move(full, old);
            Directory.Move(staging, full);
            Directory.Delete(old, recursive: true);
            return true;
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }
}
