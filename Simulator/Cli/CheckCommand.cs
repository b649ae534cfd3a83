using System.CommandLine;
using Simulator.Config;
using Simulator.Runs;
using Simulator.Studies;
using Spectre.Console;

namespace Simulator.Cli;

/// <summary><c>check config.yaml</c>: validate only (config, catalog references, workload fit); writes nothing.</summary>
public static class CheckCommand
{
    public static Command Build()
    {
        var file = new Argument<FileInfo>("config") { Description = "Experiment YAML file" };
        var sets = CliApp.SetOption();
        var print = new Option<bool>("--print") { Description = "Print the fully resolved config" };
        var command = new Command("check", "Validate an experiment without running it") { file, sets, print };
        command.SetAction(parsed => CliApp.Guard(() =>
        {
            var path = parsed.GetValue(file)!.FullName;
            if (ExperimentLoader.StudyOf(path) is { } study)
            {
                AnsiConsole.MarkupLineInterpolated($"[green]ok[/]: study {study.Value}: {Study.Check(study, path, parsed.GetValue(sets) ?? [])}");
                return ExitCodes.Ok;
            }
            if (Sweeps.SweepPlan.IsSweep(path))
            {
                var plan = Sweeps.SweepPlan.Load(path, parsed.GetValue(sets) ?? []);
                foreach (var run in plan.Runs.DistinctBy(r => r.Hash)) PreparedRun.From(run.Config);
                AnsiConsole.MarkupLineInterpolated($"[green]ok[/]: sweep {plan.Name}: {plan.Points} points, {plan.Runs.Count} runs, {plan.Figures.Count} figures");
                return ExitCodes.Ok;
            }
            var config = ExperimentLoader.Load(path, parsed.GetValue(sets) ?? []);
            var prepared = PreparedRun.From(config);
            if (parsed.GetValue(print)) Console.Write(ConfigWriter.ToYaml(config));
            foreach (var warning in prepared.Workload.Warnings()) AnsiConsole.MarkupLineInterpolated($"[yellow]warning[/]: {warning}");
            var m = prepared.Memory;
            AnsiConsole.MarkupLineInterpolated(
                $"[green]ok[/]: {config.Name}: {config.Model.Name} on {config.Node.Gpu.Name}, policy {config.Policy.Name}, {prepared.Requests.Length} requests; KV {m.KvBlocks} blocks x {m.BlockSizeTokens} tokens = {m.KvCapacityTokens:N0} tokens{(m.Tp > 1 ? $" per instance of {m.Tp} GPUs" : "")}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
