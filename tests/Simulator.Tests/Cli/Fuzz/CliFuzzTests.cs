using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Simulator.Tests.Cli.Fuzz;

/// <summary>Runs alone: the cases swap the console and the working directory, which are process-wide.</summary>
[CollectionDefinition(nameof(ProcessWide), DisableParallelization = true)]
public sealed class ProcessWide;

/// <summary>
/// Generated mutations of experiment files, sweep files, every trace format, output folders and command
/// lines, run through the CLI in-process. For every case: the exit code is 0 or 2 (1 only for a file-system
/// fault or a sweep whose runs failed), nothing prints a stack trace, nothing is written when it fails, and
/// nothing outside the output folders changes. <c>FUZZ_CASES</c> sets the number of cases (default 1,000);
/// <c>FUZZ_SEED</c> shifts them. A failure names the case, which reruns alone with <c>FUZZ_ONLY</c>.
/// </summary>
[Collection(nameof(ProcessWide))]
public sealed partial class CliFuzzTests
{
    [GeneratedRegex(@"(?m)^\s+at \S+|Unhandled exception|Stack overflow|Exception:")]
    private static partial Regex StackTrace();

    [GeneratedRegex(@"\b[1-9]\d* failed")]
    private static partial Regex SweepFailures();

    private static int Setting(string name, int fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

    [Fact]
    public void Every_Generated_Case_Should_Exit_Cleanly_And_Touch_Only_Its_Output()
    {
        var cases = Setting("FUZZ_CASES", 1000);
        var seed = Setting("FUZZ_SEED", 0);
        var only = Setting("FUZZ_ONLY", -1);
        using var sandbox = new FuzzSandbox();
        var failures = new List<string>();
        var codes = new SortedDictionary<int, int>();
        var clock = Stopwatch.StartNew();
        var perKind = new double[10];
        for (var i = only >= 0 ? only : 0; i < (only >= 0 ? only + 1 : cases) && failures.Count < 10; i++)
        {
            var random = new Random(seed * 1_000_003 + i);
            sandbox.Reset(keepOutputs: random.Next(3) == 0);
            var args = FuzzCases.Prepare(i, new Mutator(random), sandbox);
            var before = sandbox.Snapshot();
            var started = clock.Elapsed;
            var (code, output) = sandbox.Run(args);
            codes[code] = codes.GetValueOrDefault(code) + 1;
            var problem = Judge(sandbox, code, output, before, sandbox.Snapshot(), args);
            if ((clock.Elapsed - started).TotalSeconds > 60) problem ??= $"took {(clock.Elapsed - started).TotalSeconds:F0} s";
            perKind[i % 10] += (clock.Elapsed - started).TotalSeconds;
            if (i % 1000 == 999)
            {
                Console.WriteLine($"fuzz: {i + 1} cases, {clock.Elapsed.TotalSeconds:F1} s; by kind {string.Join(" ", perKind.Select(s => s.ToString("F1", CultureInfo.InvariantCulture)))}");
                Array.Clear(perKind);
            }
            if (problem is not null)
                failures.Add($"case {i} (FUZZ_ONLY={i}): {problem}\n  args: {string.Join(' ', args.Select(a => $"'{a}'"))}\n  output: {Clip(output)}");
        }
        Console.WriteLine($"fuzz: {cases} cases in {clock.Elapsed.TotalSeconds:F1} s; exit codes {string.Join(", ", codes.Select(c => $"{c.Key}: {c.Value}"))}");
        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    /// <summary>What is wrong with one case's outcome, or null.</summary>
    private static string? Judge(FuzzSandbox sandbox, int code, string output, Dictionary<string, string> before, Dictionary<string, string> after, string[] args)
    {
        if (StackTrace().IsMatch(output)) return "printed a stack trace or an exception";
        var changed = before.Keys.Union(after.Keys)
            .Where(k => !before.TryGetValue(k, out var b) || !after.TryGetValue(k, out var a) || a != b).ToList();
        var outside = changed.Where(k => !sandbox.IsOutput(k)).ToList();
        if (outside.Count > 0) return $"changed outside the output folders: {string.Join(", ", outside.Take(5))}";
        var sweepFailed = args.Length > 0 && args[0] is "sweep" or "run" && SweepFailures().IsMatch(output);
        var ioFault = output.Contains("error: file-system failure: ", StringComparison.Ordinal);
        return code switch
        {
            0 or 2 when code == 2 && changed.Count > 0 => $"exit 2 but wrote {string.Join(", ", changed.Take(5))}",
            0 or 2 => null,
            1 when ioFault && changed.Count == 0 => null,
            1 when sweepFailed => null,
            1 => $"exit 1 without a file-system fault or failed sweep runs{(changed.Count > 0 ? $"; wrote {changed[0]}" : "")}",
            _ => $"exit {code}",
        };
    }

    private static string Clip(string text) => text.Length <= 1500 ? text : text[..1500] + "...";
}
