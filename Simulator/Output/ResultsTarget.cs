using Simulator.Config;

namespace Simulator.Output;

/// <summary>
/// Which folders the tool may write into. Every results folder (run, study, sweep, sweep run) holds
/// <see cref="MarkerFile"/>; an existing folder is replaced or updated only when it holds that marker
/// (or is empty), so a mistyped <c>--out</c> or a <c>name</c> that resolves to the working directory
/// is refused before anything is touched instead of wiping a user's files. A folder inside a marked folder
/// (a run's <c>figures/</c>) belongs to it and carries no marker of its own.
/// </summary>
public static class ResultsTarget
{
    /// <summary>Written into every results folder; its presence is what lets a later run replace the folder.</summary>
    public const string MarkerFile = ".alignedserve-results";

    private const string MarkerText = "This folder holds results written by AlignedServe-Sim; a later run may replace it.\n";

    /// <summary>
    /// Throws a <see cref="ConfigException"/> (exit 2) unless <paramref name="target"/> is absent, empty or
    /// marked as results. <paramref name="legacyFile"/> also accepts an older sweep folder that holds it.
    /// </summary>
    public static void Check(string target, string? legacyFile = null)
    {
        var full = Path.GetFullPath(target);
        if (File.Exists(full)) throw Refused(full, "it is a file, not a folder");
        var cwd = Path.GetFullPath(Environment.CurrentDirectory);
        if (IsSameOrAbove(full, cwd)) throw Refused(full, "it is the current directory or holds it");
        if (!Directory.Exists(full) || IsMarked(full) || InsideResults(full) || IsUnmarkedRun(full)) return;
        if (legacyFile is not null && File.Exists(Path.Combine(full, legacyFile))) return;
        if (Directory.EnumerateFileSystemEntries(full).Any())
            throw Refused(full, $"it exists and holds files this tool did not write (no {MarkerFile} marker)");
    }

    /// <summary>Checks <paramref name="dir"/>, then creates it if needed and marks it as results (for folders updated in place: sweeps).</summary>
    public static void Claim(string dir, string? legacyFile = null)
    {
        Check(dir, legacyFile);
        Directory.CreateDirectory(dir);
        Mark(dir);
    }

    public static bool IsMarked(string dir) => File.Exists(Path.Combine(dir, MarkerFile));

    /// <summary>Whether <paramref name="dir"/>'s parent is a marked results folder.</summary>
    public static bool InsideResults(string dir) => Path.GetDirectoryName(Path.GetFullPath(dir)) is { } parent && IsMarked(parent);

    public static void Mark(string dir)
    {
        var path = Path.Combine(dir, MarkerFile);
        if (!File.Exists(path)) File.WriteAllText(path, MarkerText);
    }

    /// <summary>The files of a run or study folder written before the marker existed; such a folder holds nothing else.</summary>
    private static readonly HashSet<string> RunFiles =
    [
        ResultsWriter.RequestsFile, ResultsWriter.IterationsFile, ResultsWriter.SummaryCsvFile, ResultsWriter.SummaryJsonFile,
        ResultsWriter.ResolvedConfigFile, ResultsWriter.GpusFile, ResultsWriter.LinksFile, ResultsWriter.TransfersFile, ResultsWriter.PoolFile,
        ResultsWriter.NotesFile, ResultsWriter.TimingFile, ResultsWriter.SchedulingHistogramFile, Studies.IterationLatencyStudy.TableFile,
        Plots.FigureSet.Folder, Reports.HtmlReport.File,
    ];

    /// <summary>
    /// A results folder of an earlier version: its resolved config and only files a run or study writes, so replacing
    /// it loses nothing a user put there.
    /// </summary>
    private static bool IsUnmarkedRun(string dir) =>
        File.Exists(Path.Combine(dir, ResultsWriter.ResolvedConfigFile))
        && Directory.EnumerateFileSystemEntries(dir).All(e => RunFiles.Contains(Path.GetFileName(e)))
        && (!Directory.Exists(Path.Combine(dir, Plots.FigureSet.Folder))
            || Directory.EnumerateFileSystemEntries(Path.Combine(dir, Plots.FigureSet.Folder)).All(f => File.Exists(f) && Path.GetExtension(f) is ".png" or ".svg"));

    private static bool IsSameOrAbove(string folder, string path)
    {
        var a = Path.TrimEndingDirectorySeparator(folder);
        var b = Path.TrimEndingDirectorySeparator(path);
        return b == a || b.StartsWith(a + Path.DirectorySeparatorChar, StringComparison.Ordinal) || a == Path.GetPathRoot(a);
    }

    private static ConfigException Refused(string full, string why) =>
        new(null, "", $"refusing to write results to '{full}': {why}; nothing was changed (choose another --out or name)");
}
