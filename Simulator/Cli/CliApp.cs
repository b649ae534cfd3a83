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
        // A NUL character cannot be in a path or a value, and .NET's path types throw on it while parsing.
        if (Array.FindIndex(args, a => a.Contains('\0')) is var nul and >= 0)
        {
            Console.Error.WriteLine($"error: argument {nul + 1} contains a NUL character");
            return ExitCodes.InvalidInput;
        }
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors) Console.Error.WriteLine($"error: {error.Message}");
            Console.Error.WriteLine("Run with --help for usage.");
            return ExitCodes.InvalidInput;
        }
        return parsed.Invoke();
    }

    /// <summary>
    /// Runs a command body, mapping config errors to exit code 2, file-system failures to one line and
    /// exit code 1 (a full disk or a read-only folder is not a bug: no stack trace), and cancellation to 130.
    /// </summary>
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
        catch (Exception e) when (FileSystemFault(e) is { } fault)
        {
            // .NET's messages name the path and the reason ("Access to the path '/x' is denied.").
            Console.Error.WriteLine($"error: file-system failure: {fault.Message.ReplaceLineEndings(" ")}");
            return ExitCodes.Failure;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("interrupted: no partial results were written");
            return ExitCodes.Interrupted;
        }
    }

    /// <summary>The file-system failure behind <paramref name="e"/> (also inside a parallel sweep's aggregate), or null.</summary>
    private static Exception? FileSystemFault(Exception e) => e switch
    {
        IOException or UnauthorizedAccessException => e,
        AggregateException a => a.Flatten().InnerExceptions.Select(FileSystemFault).FirstOrDefault(f => f is not null),
        _ => null,
    };

    public static Option<string[]> SetOption() => new("--set")
    {
        Description = "Override a config field: --set path.to.field=value (YAML value; repeatable)",
        AllowMultipleArgumentsPerToken = false,
        Arity = ArgumentArity.ZeroOrMore,
    };
}
