using System.CommandLine;
using System.Diagnostics;
using Simulator.Config;
using Simulator.Studies;
using Simulator.Sweeps;
using Spectre.Console;

namespace Simulator.Cli;

/// <summary>
/// <c>reproduce</c>: run every config under configs/paper/ (studies and sweeps) into results/&lt;name&gt;/, resuming sweeps already
/// begun, then write the claims ledger (results/paper-claims/) from what is there.
/// </summary>
public static class ReproduceCommand
{
    public static Command Build()
    {
        var configs = new Option<DirectoryInfo?>("--configs") { Description = "Folder of paper configs (default: ./configs/paper; run from the repository root)" };
        var outDir = new Option<DirectoryInfo?>("--out") { Description = "Parent folder of the results (default: results)" };
        var only = new Option<string[]>("--only") { Description = "Only these configs (file names without .yaml; repeatable)", Arity = ArgumentArity.ZeroOrMore };
        var ledgerOnly = new Option<bool>("--ledger-only") { Description = "Run nothing: rewrite the claims ledger (results/paper-claims/) from the results already there" };
        var jobs = SweepCommand.JobsOption();
        var sets = CliApp.SetOption();
        var command = new Command("reproduce", "Run every paper config (configs/paper/*.yaml) and write each one's results, figures and report")
        {
            configs, outDir, only, jobs, sets, ledgerOnly,
        };
        command.SetAction(parsed => CliApp.Guard(() =>
        {
            var folder = parsed.GetValue(configs)?.FullName ?? Path.GetFullPath(Path.Combine("configs", "paper"));
            var files = Directory.Exists(folder) ? Directory.GetFiles(folder, "*.yaml").Order(StringComparer.Ordinal).ToList() : [];
            var wanted = parsed.GetValue(only) ?? [];
            var unknown = wanted.Where(w => files.All(f => Path.GetFileNameWithoutExtension(f) != w)).ToList();
            if (files.Count == 0 || unknown.Count > 0)
                throw new ConfigException(null, "--only", files.Count == 0 ? $"no paper configs in '{folder}' (run from the repository root or pass --configs)"
                    : $"no config named {string.Join(", ", unknown)} in '{folder}'; expected one of: {string.Join(", ", files.Select(Path.GetFileNameWithoutExtension))}");
            if (wanted.Length > 0) files = files.Where(f => wanted.Contains(Path.GetFileNameWithoutExtension(f))).ToList();
            var parent = parsed.GetValue(outDir)?.FullName ?? Path.GetFullPath("results");
            if (parsed.GetValue(ledgerOnly)) return WriteLedger(parent);
            var code = Run(files, parent, parsed.GetValue(jobs), parsed.GetValue(sets) ?? []);
            return code == ExitCodes.Interrupted ? code : Math.Max(code, WriteLedger(parent));
        }));
        return command;
    }

    private static int Run(IReadOnlyList<string> files, string parent, int jobs, IReadOnlyList<string> sets)
    {
        // Validate everything first: a typo in the last file should not surface after an hour.
        var plans = files.Select(f => (File: f, Study: ExperimentLoader.StudyOf(f), Plan: ExperimentLoader.StudyOf(f) is null ? SweepPlan.Load(f, sets) : null)).ToList();
        foreach (var (file, study, _) in plans.Where(p => p.Study is not null)) Study.Check(study!, file, sets);
        var total = Stopwatch.StartNew();
        var exit = ExitCodes.Ok;
        // Items: a study is one; a sweep is its runs not done yet (failed ones stay failed: reproduce does not retry them).
        var items = plans.Sum(p => p.Plan is null ? 1 : p.Plan.Runs.DistinctBy(r => r.Hash)
            .Count(r => SweepManifest.StateOf(Path.Combine(parent, p.Plan.Name), r.Hash) == RunState.Missing));
        var interrupted = ItemProgress.Run(progress =>
        {
            progress.Overall("reproduce", items);
            foreach (var (file, study, plan) in plans)
            {
                var clock = Stopwatch.StartNew();
                progress.Message(Path.GetFileName(file));
                if (study is not null)
                {
                    var name = Study.Check(study, file, sets);
                    progress.Stage($"{name}: study", 1);
                    var (target, figures) = Study.Run(study, file, sets, Path.Combine(parent, name));
                    progress.Finished($"study {study.Value}: {target}, {figures.Count / 2} figures", clock.Elapsed.TotalSeconds);
                }
                else
                {
                    var code = SweepCommand.Execute(plan!, Path.Combine(parent, plan!.Name), new SweepOptions(jobs), yes: true, dryRun: false, progress);
                    if (code == ExitCodes.Interrupted) return true;
                    if (code != ExitCodes.Ok) exit = code;
                }
                progress.Message($"{Path.GetFileName(file)}: {clock.Elapsed.TotalSeconds:F1} s");
            }
            return false;
        });
        if (interrupted) return ExitCodes.Interrupted;
        AnsiConsole.MarkupLineInterpolated($"reproduce: {files.Count} configs in {total.Elapsed.TotalMinutes:F1} min");
        return exit;
    }

    /// <summary>The claims ledger from the paper results under <paramref name="parent"/>; a claim whose runs are missing reads "not run".</summary>
    private static int WriteLedger(string parent)
    {
        var claims = Claims.ClaimsLedger.Build(parent);
        var dir = Path.Combine(parent, Claims.ClaimsWriter.Folder);
        Claims.ClaimsWriter.Write(dir, claims);
        foreach (var group in claims.GroupBy(c => c.Verdict).OrderBy(g => g.Key))
            AnsiConsole.MarkupLineInterpolated($"claims {Claims.ClaimsWriter.Name(group.Key)}: {group.Count()}");
        AnsiConsole.MarkupLineInterpolated($"claims ledger: [green]{Path.Combine(dir, Claims.ClaimsWriter.MarkdownFile)}[/]");
        return ExitCodes.Ok;
    }
}
