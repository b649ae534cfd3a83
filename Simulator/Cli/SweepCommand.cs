using System.CommandLine;
using Simulator.Config;
using Simulator.Sweeps;
using Spectre.Console;

namespace Simulator.Cli;

/// <summary>
/// <c>sweep file.yaml</c>: expand the sweep, run the runs not yet done (in parallel, resumable,
/// optionally one shard), then write points.csv, runs.csv, figures, report.md and report.html.
/// </summary>
public static class SweepCommand
{
    public static Command Build()
    {
        var file = new Argument<FileInfo>("sweep") { Description = "Experiment YAML file with a sweep: section" };
        var outDir = new Option<DirectoryInfo?>("--out") { Description = "Results folder (default: results/<name>)" };
        var jobs = JobsOption();
        var shard = new Option<string?>("--shard") { Description = "Run only shard K of N (K/N, 1-based); default from SLURM_ARRAY_TASK_ID/COUNT when set" };
        var yes = new Option<bool>("--yes") { Description = "Run even if the sweep has more runs than its max_points" };
        var retry = new Option<bool>("--retry-failed") { Description = "Run again the runs recorded as failed" };
        var dryRun = new Option<bool>("--dry-run") { Description = "List the runs and whether each is done; run nothing" };
        var sets = CliApp.SetOption();
        var command = new Command("sweep", "Run a parameter sweep (resumable, parallel, shardable) and write its tables, figures and report")
        {
            file, outDir, jobs, shard, yes, retry, dryRun, sets,
        };
        command.SetAction(parsed => CliApp.Guard(() =>
        {
            var plan = SweepPlan.Load(parsed.GetValue(file)!.FullName, parsed.GetValue(sets) ?? []);
            var target = parsed.GetValue(outDir)?.FullName ?? Path.GetFullPath(Path.Combine("results", plan.Name));
            var chosen = parsed.GetValue(shard) is { } text ? Shard.Parse(text) : Shard.FromEnvironment();
            return Execute(plan, target, new SweepOptions(parsed.GetValue(jobs), chosen, parsed.GetValue(retry)), parsed.GetValue(yes), parsed.GetValue(dryRun));
        }));
        return command;
    }

    public static Option<int> JobsOption() => new("--jobs", "-j")
    {
        Description = "Runs at a time (default: the number of cores)",
        DefaultValueFactory = _ => Environment.ProcessorCount,
        // Parsed here rather than validated after the default parser: a validator that reads a value that did not
        // parse ("--jobs merge") throws out of the parser instead of reporting an error.
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var jobs) && jobs >= 1)
                return jobs;
            result.AddError($"--jobs expects a positive integer, got '{text}'");
            return 1;
        },
    };

    /// <summary>
    /// Runs a loaded sweep with console output; the exit code. Its runs are items of <paramref name="progress"/> when given
    /// (reproduce shows every config's runs under one display), else of a display of its own.
    /// </summary>
    public static int Execute(SweepPlan plan, string target, SweepOptions options, bool yes, bool dryRun, ItemProgress? progress = null)
    {
        var distinct = plan.Runs.Select(r => r.Hash).Distinct().Count();
        var seeds = plan.Spec.Seeds?.Count ?? 1;
        AnsiConsole.MarkupLineInterpolated(
            $"sweep [bold]{plan.Name}[/]: {plan.Points} points x {seeds} seed{(seeds == 1 ? "" : "s")} = {plan.Runs.Count} runs{(distinct < plan.Runs.Count ? $" ({distinct} distinct configs)" : "")}{(options.Shard is { } s ? $"; shard {s}" : "")}");
        if (dryRun)
        {
            var table = new Table().AddColumns("run", "point", "seed", "hash", "state", "parameters");
            foreach (var run in plan.Runs)
                table.AddRow($"{run.Index}", $"{run.Point}", $"{run.Seed}", run.Hash,
                    SweepResults.Status(SweepManifest.StateOf(target, run.Hash)), Markup.Escape(run.Describe(plan.Spec.Dimensions)));
            AnsiConsole.Write(table);
            return ExitCodes.Ok;
        }
        if (plan.Runs.Count > plan.Spec.MaxRuns && !yes)
        {
            Console.Error.WriteLine($"error: the sweep has {plan.Runs.Count} runs, more than its max_points ({plan.Spec.MaxRuns}); pass --yes to run them all, or raise sweep.max_points");
            return ExitCodes.InvalidInput;
        }

        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        Console.CancelKeyPress += onCancel;
        try
        {
            var outcome = RunWithProgress(plan, target, options, progress, cancel.Token);
            AnsiConsole.MarkupLineInterpolated(
                $"{outcome.InShard} runs{(options.Shard is null ? "" : " in this shard")}: {outcome.AlreadyDone} already done, {outcome.Ran} run now, {outcome.Failed} failed{(outcome.FailedEarlier > 0 ? $", {outcome.FailedEarlier} failed earlier (not retried; --retry-failed runs them again)" : "")}; {outcome.Missing} of the sweep's {outcome.Runs} still missing");
            AnsiConsole.MarkupLineInterpolated($"results: [green]{target}[/] ({SweepResults.PointsTable}, {SweepResults.RunsTable}, {SweepReport.File}, {Reports.HtmlReport.File}, figures/)");
            if (!outcome.Complete)
                AnsiConsole.MarkupLine(options.Shard is null
                    ? "the sweep is incomplete; run the same command again to finish it"
                    : "other shards' runs are missing here; when every shard has finished, run `merge` over their folders (or share one folder)");
            return outcome.AnyFailed ? ExitCodes.Failure : ExitCodes.Ok;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("interrupted: finished runs are kept; run the same command again to resume");
            return ExitCodes.Interrupted;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>Runs the sweep, its runs counted as items of <paramref name="progress"/>, or of a display of its own when null.</summary>
    private static SweepOutcome RunWithProgress(SweepPlan plan, string target, SweepOptions options, ItemProgress? progress, CancellationToken cancel)
    {
        if (progress is null) return ItemProgress.Run(p => RunWithProgress(plan, target, options, p, cancel));
        return SweepRunner.Run(plan, target, options, s =>
        {
            if (s.Last is null) progress.Stage($"{plan.Name}: runs ({options.Jobs} jobs)", s.ToDo);
            else progress.Finished(s.Last.Describe(plan.Spec.Dimensions), s.LastSeconds, s.LastError);
        }, cancel);
    }
}
