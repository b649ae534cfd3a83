using System.CommandLine;
using Simulator.Config;
using Simulator.Output;
using Simulator.Sweeps;
using Spectre.Console;

namespace Simulator.Cli;

/// <summary><c>merge dir...</c>: combine the results folders of a sweep's shards into one, then rebuild its tables, figures and report.</summary>
public static class MergeCommand
{
    public static Command Build()
    {
        var dirs = new Argument<DirectoryInfo[]>("results-dirs") { Description = "Results folders of the same sweep (one per shard)", Arity = ArgumentArity.OneOrMore };
        var outDir = new Option<DirectoryInfo?>("--out") { Description = "Merged folder (default: the first folder)" };
        var command = new Command("merge", "Merge the results folders of a sharded sweep into one table") { dirs, outDir };
        command.SetAction(parsed => CliApp.Guard(() =>
        {
            var given = parsed.GetValue(dirs)!;
            if (given.Any(d => d is null)) throw new ConfigException(null, "", "merge: expected results folders, found an empty argument");
            var sources = given.Select(d => d.FullName).ToList();
            var target = parsed.GetValue(outDir)?.FullName ?? sources[0];
            var (copied, missing) = Merge(sources, target);
            AnsiConsole.MarkupLineInterpolated($"merged {sources.Count} folders into [green]{target}[/]: {copied} runs copied; {missing} runs still missing");
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>Copies every run folder into <paramref name="target"/> and rebuilds its tables; (runs copied, runs missing).</summary>
    public static (int Copied, int Missing) Merge(IReadOnlyList<string> sources, string target)
    {
        var manifests = sources.Select(SweepManifest.Read).ToList();
        var hashes = manifests[0].Runs.Select(r => r.Hash).ToList();
        for (var i = 1; i < manifests.Count; i++)
            if (manifests[i].Name != manifests[0].Name || !manifests[i].Runs.Select(r => r.Hash).SequenceEqual(hashes))
                throw new ConfigException(null, "", $"'{sources[i]}' holds a different sweep than '{sources[0]}' (its name or runs differ); merge only shards of one sweep");
        var fullTarget = Path.GetFullPath(target);
        if (!sources.Any(s => Path.GetFullPath(s) == fullTarget))
        {
            ResultsTarget.Claim(fullTarget, SweepManifest.File);
            foreach (var file in new[] { SweepManifest.File, SweepManifest.FiguresFile, SweepReport.SourceCopy })
            {
                var from = Path.Combine(sources[0], file);
                if (File.Exists(from)) ResultsFolder.WriteFileAtomically(Path.Combine(fullTarget, file), tmp => File.Copy(from, tmp, overwrite: true));
            }
        }
        var copied = 0;
        foreach (var hash in hashes.Distinct())
        {
            if (SweepManifest.StateOf(fullTarget, hash) != RunState.Missing) continue;
            var source = sources.FirstOrDefault(s => SweepManifest.StateOf(s, hash) != RunState.Missing);
            if (source is null) continue;
            var to = SweepManifest.RunDir(fullTarget, hash);
            if (Directory.Exists(to)) Directory.Delete(to, recursive: true);
            if (ResultsFolder.WriteIfAbsent(to, staging => CopyFiles(SweepManifest.RunDir(source, hash), staging))) copied++;
        }
        SweepResults.WriteAll(fullTarget);
        var missing = hashes.Distinct().Count(h => SweepManifest.StateOf(fullTarget, h) == RunState.Missing);
        return (copied, missing);
    }

    private static void CopyFiles(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }
}
