using System.CommandLine;
using Simulator.Bench;
using Spectre.Console;

namespace Simulator.Cli;

/// <summary><c>bench engine</c>: prints the event engine's throughput figures.</summary>
public static class BenchCommand
{
    public static Command Build()
    {
        var engine = new Command("engine", "Events per second of the bare engine (timeout-heavy and resource-heavy models)");
        engine.SetAction(_ =>
        {
            var table = new Table().AddColumns("scenario", "events", "wall s", "events/s", "bytes/event");
            foreach (var figure in new[] { EngineBenchmark.TimeoutHeavy(), EngineBenchmark.ResourceHeavy() })
                table.AddRow(figure.Scenario, $"{figure.Events:N0}", $"{figure.WallSeconds:F3}", $"{figure.EventsPerSecond / 1e6:F2} M",
                    $"{figure.AllocatedBytes / (double)figure.Events:F0}");
            AnsiConsole.Write(table);
            return ExitCodes.Ok;
        });
        var experiment = new Argument<FileInfo[]>("experiment")
        {
            Description = "Experiment files (default: configs/azure-conv-disaggregated.yaml and configs/quickstart.yaml)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var sets = CliApp.SetOption();
        var serving = new Command("serving", "Whole simulations: simulated/wall time, decode iterations/s, requests/s, memory") { experiment, sets };
        serving.SetAction(parsed => CliApp.Guard(() =>
        {
            var files = parsed.GetValue(experiment) is { Length: > 0 } given
                ? given.Select(f => f.FullName).ToArray()
                : new[] { "configs/azure-conv-disaggregated.yaml", "configs/quickstart.yaml" }.Where(File.Exists).ToArray();
            foreach (var file in files)
            {
                ServingBenchmark.Figure f;
                try
                {
                    f = ServingBenchmark.Measure(file, parsed.GetValue(sets) ?? []);
                }
                catch (Config.ConfigException e) when (parsed.GetValue(experiment) is not { Length: > 0 })
                {
                    Console.WriteLine($"skipped {file}: {e.Message}"); // a default experiment whose trace is not here
                    continue;
                }
                Console.WriteLine(
                    $"{f.Experiment}: {f.Requests:N0} requests, {f.Iterations:N0} iterations, {f.SimulatedS:F0} s simulated in {f.WallS:F2} s wall " +
                    $"= {f.SpeedUp:N0}x real time; {f.IterationsPerS:N0} iterations/s, {f.RequestsPerS:N0} requests/s; " +
                    $"allocated {f.AllocatedBytes / 1048576.0:N0} MiB, peak working set {f.PeakWorkingSetBytes / 1048576.0:N0} MiB");
            }
            return ExitCodes.Ok;
        }));
        var formation = new Command("formation", "Time of one aligned batch decision with 10k, 100k and 1M requests in the pool");
        formation.SetAction(_ =>
        {
            foreach (var pooled in new[] { 10_000, 100_000, 1_000_000 })
            {
                var f = FormationBenchmark.Measure(pooled);
                Console.WriteLine($"aligned formation, {f.Pooled:N0} pooled: {f.Decisions} decisions, mean {f.DecisionUs.Mean:F1} us, " +
                    $"P50 {f.DecisionUs.P50:F1} us, P99 {f.DecisionUs.P99:F1} us; mean batch {f.MeanBatch:F0} requests");
            }
            return ExitCodes.Ok;
        });
        return new Command("bench", "Benchmarks that print figures") { engine, serving, formation };
    }
}
