namespace Simulator.Output;

/// <summary>
/// Writes a run's results into a hidden staging folder beside the target and moves it into
/// place only when complete, so an interrupted or failed run never leaves half a result.
/// </summary>
public static class ResultsFolder
{
    public static void WriteAtomically(string target, Action<string> write)
    {
        var full = Path.GetFullPath(target);
        var parent = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(full)}.partial-{Environment.ProcessId}");
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);
        try
        {
            write(staging);
            if (Directory.Exists(full))
            {
                var old = $"{staging}.old";
                Directory.Move(full, old);
                Directory.Move(staging, full);
                Directory.Delete(old, recursive: true);
            }
            else Directory.Move(staging, full);
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }
}
