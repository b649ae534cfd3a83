using System.CommandLine;
using Simulator.Config;

namespace Simulator.Cli;

/// <summary>The command line: run, sweep, merge, reproduce, check, list, plot, bench.</summary>
public static class CliApp
{
    public static int Start(string[] args)
    {
        var root = new RootCommand("AlignedServe-Sim: a discrete-event simulator of LLM serving and its batching policies.")
        {
            RunCommand.Build(),
            SweepCommand.Build(),
            MergeCommand.Build(),
            ReproduceCommand.Build(),
            CheckCommand.Build(),
            ListCommand.Build(),
            PlotCommand.Build(),
            BenchCommand.Build(),
            AccuracyCommand.Build(),
        };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors) Console.Error.WriteLine($"error: {error.Message}");
            Console.Error.WriteLine("Run with --help for usage.");
            return ExitCodes.InvalidInput;
        }
        return parsed.Invoke();
    }

    /// <summary>Runs a command body, mapping config errors to exit code 2 and cancellation to 130.</summary>
    public static int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (ConfigException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.InvalidInput;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("interrupted: no partial results were written");
            return ExitCodes.Interrupted;
        }
    }

    public static Option<string[]> SetOption() => new("--set")
    {
        Description = "Override a config field: --set path.to.field=value (YAML value; repeatable)",
        AllowMultipleArgumentsPerToken = false,
        Arity = ArgumentArity.ZeroOrMore,
    };
}
