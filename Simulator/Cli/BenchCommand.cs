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
        return new Command("bench", "Benchmarks that print figures") { engine };
    }
}
