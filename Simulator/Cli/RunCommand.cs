using System.CommandLine;
using Simulator.Config;
using Simulator.Metrics;
using Simulator.Output;
using Simulator.Plots;
using Simulator.Runs;
using Simulator.Studies;
using Spectre.Console;

namespace Simulator.Cli;

/// <summary><c>run experiment.yaml</c>: simulate and write results/&lt;name&gt;/ with CSVs, JSON and figures.</summary>
public static class RunCommand
{
    public static Command Build()
    {
        var file = new Argument<FileInfo>("experiment") { Description = "Experiment YAML file" };
        var outDir = new Option<DirectoryInfo?>("--out") { Description = "Results folder (default: results/<experiment name>)" };
        var seed = new Option<long?>("--seed")
        {
            Description = "Override the root random seed (a non-negative integer)",
            CustomParser = result =>
            {
                var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
                if (long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value)) return value;
                result.AddError($"--seed expects a non-negative integer, got '{text}'");
                return null;
            },
        };
        var sets = CliApp.SetOption();
        var calibration = new Option<string?>("--calibration")
        {
            Description = "A calibration from RealRunner's profile, or vidur:DIR for a Vidur profiling folder (sets cost_model.calibration)",
        };
        var command = new Command("run", "Run one experiment and write its results and figures") { file, outDir, seed, sets, calibration };
        command.SetAction(parsed => CliApp.Guard(() => Execute(
            parsed.GetValue(file)!, parsed.GetValue(outDir), parsed.GetValue(seed),
            [.. parsed.GetValue(sets) ?? [], .. parsed.GetValue(calibration) is { } c ? [$"cost_model.calibration={CalibrationValue(c)}"] : Array.Empty<string>()])));
        return command;
    }

    /// <summary>The calibration's path made absolute (a <c>vidur:</c> folder keeps its prefix).</summary>
    private static string CalibrationValue(string value) =>
        Calibration.VidurProfile.FolderOf(value) is { } folder ? $"{Calibration.VidurProfile.Scheme}:{Path.GetFullPath(folder)}" : Path.GetFullPath(value);

    private static int Execute(FileInfo file, DirectoryInfo? outDir, long? seed, string[] sets)
    {
        if (ExperimentLoader.StudyOf(file.FullName) is { } study)
        {
            var (folder, studyFigures) = Study.Run(study, file.FullName, sets, outDir?.FullName);
            AnsiConsole.MarkupLineInterpolated($"study {study.Value}: results [green]{Path.GetFullPath(folder)}[/]");
            foreach (var figure in studyFigures.Where(f => f.EndsWith(".png", StringComparison.Ordinal)))
                AnsiConsole.MarkupLineInterpolated($"figure:  {Path.Combine(Path.GetFullPath(folder), FigureSet.Folder, Path.GetFileName(figure))}");
            return ExitCodes.Ok;
        }
        if (Sweeps.SweepPlan.IsSweep(file.FullName))
        {
            if (seed is not null) throw new ConfigException(null, "--seed", "this file is a sweep; set sweep.seeds (or --set seed=N) instead of --seed");
            var plan = Sweeps.SweepPlan.Load(file.FullName, sets);
            return SweepCommand.Execute(plan, outDir?.FullName ?? Path.GetFullPath(Path.Combine("results", plan.Name)),
                new Sweeps.SweepOptions(Environment.ProcessorCount), yes: false, dryRun: false);
        }
        var config = ExperimentLoader.Load(file.FullName, sets, seed);
        var prepared = PreparedRun.From(config);
        var w = prepared.Workload;
        if (w.SkippedMalformed + w.DroppedFailed + w.Clipped + w.DroppedTooLong > 0)
            AnsiConsole.MarkupLineInterpolated(
                $"workload {w.Source}: {w.RowsRead} rows, {w.Requests} requests kept; {w.SkippedMalformed} malformed lines skipped, {w.DroppedFailed} failed requests dropped, {w.DroppedTooLong} over max_request_tokens left out, {w.Clipped} clipped to the context");
        foreach (var warning in w.Warnings()) AnsiConsole.MarkupLineInterpolated($"[yellow]warning[/]: {warning}");
        var target = outDir?.FullName ?? Path.Combine("results", config.Name);
        ResultsTarget.Check(target); // refuse before simulating, not after
        var roles = string.Join(" + ", config.Deployment.Instances().GroupBy(i => i).Select(g =>
            $"{g.Count()} {Config.ConfigNames.EnumName(g.Key.Role)}{(g.Key.Tp > 1 ? $" (tp {g.Key.Tp})" : "")}"));
        var unused = config.Node.GpuCount - config.Deployment.GpusPerNode();
        AnsiConsole.MarkupLineInterpolated(
            $"[bold]{config.Name}[/]: {config.Policy.Name}, {config.Model.Name}, {config.Deployment.Nodes} x {config.Node.Name} with {roles} {config.Node.Gpu.Name} per node{(unused > 0 ? $" ({unused} unused)" : "")}, {prepared.Requests.Length} requests, seed {config.Seed}");

        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        Console.CancelKeyPress += onCancel;
        try
        {
            var result = ProgressDisplay.Run(prepared.Requests.Length, report => SingleRun.Execute(prepared, report, cancel.Token));
            cancel.Token.ThrowIfCancellationRequested();
            IReadOnlyList<string> figures = [];
            ResultsFolder.WriteAtomically(target, dir =>
            {
                ResultsWriter.Write(dir, result);
                figures = FigureSet.Render(dir);
                Reports.RunReport.Write(dir);
            });
            PrintSummary(result.Summary);
            foreach (var note in result.Notes) AnsiConsole.MarkupLineInterpolated($"[yellow]warning[/]: {note}");
            AnsiConsole.MarkupLineInterpolated($"simulated {result.Events:N0} events in {result.WallSeconds:F2} s wall");
            AnsiConsole.MarkupLineInterpolated($"results: [green]{Path.GetFullPath(target)}[/]");
            if (result.Metrics.Observer is Tracing.TraceRecorder trace)
                AnsiConsole.MarkupLineInterpolated(
                    $"trace:   {Path.Combine(Path.GetFullPath(target), Tracing.TraceWriter.FileName)} ({trace.Events:N0} events{(trace.LeftOut() is { } left ? $"; left out {left}" : "")})");
            AnsiConsole.MarkupLineInterpolated($"report:  {Path.Combine(Path.GetFullPath(target), Reports.HtmlReport.File)}");
            foreach (var figure in figures.Where(f => f.EndsWith(".png", StringComparison.Ordinal)))
                AnsiConsole.MarkupLineInterpolated($"figure:  {Path.Combine(Path.GetFullPath(target), FigureSet.Folder, Path.GetFileName(figure))}");
            return ExitCodes.Ok;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static void PrintSummary(RunSummary s)
    {
        var table = new Table().AddColumns("metric", "mean", "P50", "P90", "P99");
        void Row(string name, Distribution d, double scale, string unit) => table.AddRow(
            $"{name} ({unit})", F(d.Mean * scale), F(d.P50 * scale), F(d.P90 * scale), F(d.P99 * scale));
        Row("TTFT", s.TtftS, 1, "s");
        Row("TPOT", s.TpotS, 1000, "ms");
        Row("ITL (decoding)", s.ItlS, 1000, "ms");
        Row("pool wait", s.PoolWaitS, 1, "s");
        Row("E2E", s.E2eS, 1, "s");
        Row("iteration", s.IterationTimeS, 1000, "ms");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated(
            $"decode throughput {s.DecodeThroughputTokensPerS:F1} tok/s, {s.RequestThroughputPerS:F3} req/s over {s.MakespanS:F2} s; GPU busy {s.GpuBusyFraction:P1}; bubbles: iteration {s.IterationBubbleFraction:P2}, batch {s.BatchBubbleFraction:P2}, request {s.RequestBubbleFraction:P2}; preemptions {s.Preemptions}; KV moved {s.KvTransferredGib:F1} GiB in {s.KvTransfers} transfers");
    }

    private static string F(double x) => double.IsNaN(x) ? "-" : x.ToString("G4", System.Globalization.CultureInfo.InvariantCulture);
}
