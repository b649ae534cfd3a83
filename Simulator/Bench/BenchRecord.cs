using System.Diagnostics;
using System.Globalization;

namespace Simulator.Bench;

/// <summary>
/// Appends benchmark figures to a CSV (results/bench/bench.csv by default), one row per figure with
/// the time, the commit (with "+dirty" for uncommitted changes) and the host, so a regression shows
/// up as a jump between commits.
/// </summary>
public sealed class BenchRecord(string path)
{
    public const string DefaultPath = "results/bench/bench.csv";
    private static readonly string[] Header = ["utc", "commit", "host", "cores", "scenario", "metric", "value"];
    private readonly string stamp = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
    private readonly string commit = Commit();

    public string Path { get; } = path;

    public void Add(string scenario, params (string Metric, double Value)[] figures)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);
        var fresh = !File.Exists(Path);
        using var writer = new StreamWriter(Path, append: true) { NewLine = "\n" };
        if (fresh) writer.WriteLine(string.Join(',', Header));
        foreach (var (metric, value) in figures)
            writer.WriteLine(string.Join(',', stamp, commit, Environment.MachineName, Environment.ProcessorCount, scenario, metric,
                value.ToString("R", CultureInfo.InvariantCulture)));
    }

    /// <summary>The short commit id of the working tree, "+dirty" when it has uncommitted changes; "unknown" outside a git checkout.</summary>
    private static string Commit()
    {
        try
        {
            var id = Git("rev-parse --short=12 HEAD");
            if (id.Length == 0) return "unknown";
            // The CSV itself is tracked and grows with every run: it does not make the code dirty.
            return Git("status --porcelain --untracked-files=no -- . :!results/bench").Length > 0 ? id + "+dirty" : id;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }

    private static string Git(string args)
    {
        var start = new ProcessStartInfo("git", args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : "";
    }
}
