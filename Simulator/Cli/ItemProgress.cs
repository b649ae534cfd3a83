using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace Simulator.Cli;

/// <summary>
/// Progress of work counted in items: a sweep's runs, reproduce's configs and their runs, accuracy's fits. On a terminal,
/// a live bar per stage (and one over all stages when the work has several) with elapsed time and Spectre.Console's
/// estimate of the time left. Anywhere else (CI logs, pipes, files) no bar is drawn: one line per finished item, with
/// its count and an estimate of the time left, so a log holds one line per item and nothing that redraws.
/// </summary>
public sealed class ItemProgress
{
    private readonly ProgressContext? live;
    private readonly TextWriter log;
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly Lock gate = new();
    private ProgressTask? overallBar, stageBar;
    private string stageLabel = "";
    private int overallDone, overallTotal, stageDone, stageTotal;
    private TimeSpan stageStart;

    private ItemProgress(ProgressContext? live, TextWriter log) => (this.live, this.log) = (live, log);

    /// <summary>
    /// Runs <paramref name="work"/> with progress shown as bars when the console is an interactive terminal
    /// (or <paramref name="interactive"/> says so), else as lines on <paramref name="log"/> (standard output by default).
    /// </summary>
    public static T Run<T>(Func<ItemProgress, T> work, bool? interactive = null, TextWriter? log = null)
    {
        if (!(interactive ?? AnsiConsole.Profile.Capabilities.Interactive)) return work(new ItemProgress(null, log ?? Console.Out));
        return AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx => work(new ItemProgress(ctx, Console.Out)));
    }

    /// <summary>Declares the size of the whole work when it has several stages; each stage's items count towards it.</summary>
    public void Overall(string label, int total)
    {
        lock (gate)
        {
            (overallDone, overallTotal) = (0, total);
            if (live is not null) overallBar = live.AddTask(Markup.Escape(label), maxValue: Math.Max(1, total));
        }
    }

    /// <summary>Begins a stage of <paramref name="total"/> items (one sweep's runs, the fits of accuracy).</summary>
    public void Stage(string label, int total)
    {
        lock (gate)
        {
            (stageLabel, stageDone, stageTotal, stageStart) = (label, 0, total, clock.Elapsed);
            if (stageBar is not null)
            {
                stageBar.Value = stageBar.MaxValue;
                stageBar.StopTask(); // its elapsed time stays the stage's own
            }
            if (live is not null) stageBar = live.AddTask(Markup.Escape(label), maxValue: Math.Max(1, total));
            else log.WriteLine($"{label}: {total} to do");
            if (total == 0 && stageBar is not null) stageBar.Value = 1;
        }
    }

    /// <summary>One item of the current stage finished, after <paramref name="seconds"/>; <paramref name="error"/> when it failed.</summary>
    public void Finished(string item, double seconds, string? error = null)
    {
        lock (gate)
        {
            stageDone++;
            if (overallTotal > 0) overallDone++;
            if (live is not null)
            {
                if (stageBar is not null)
                {
                    stageBar.Value = stageDone;
                    if (stageDone >= stageTotal) stageBar.StopTask();
                }
                if (overallBar is not null) overallBar.Value = overallDone;
                if (error is not null) AnsiConsole.MarkupLineInterpolated($"[red]failed[/] {item}: {error}");
                return;
            }
            var count = overallTotal > 0 ? $"[{stageDone}/{stageTotal}, all {overallDone}/{overallTotal}]" : $"[{stageDone}/{stageTotal}]";
            var left = overallTotal > 0 ? Left(clock.Elapsed, overallDone, overallTotal) : Left(clock.Elapsed - stageStart, stageDone, stageTotal);
            var seconds1 = seconds.ToString("F1", CultureInfo.InvariantCulture);
            log.WriteLine($"{count} {item}: {(error is null ? "ok" : "FAILED: " + error)} ({seconds1} s{(left.Length > 0 ? $"; {left}" : "")})");
        }
    }

    /// <summary>A line shown above the bars on a terminal, or written to the log.</summary>
    public void Message(string line)
    {
        lock (gate)
        {
            if (live is not null) AnsiConsole.WriteLine(line);
            else log.WriteLine(line);
        }
    }

    /// <summary>
    /// The time left if the remaining items take as long on average as the finished ones: "about 3 min left";
    /// empty when nothing has finished or nothing is left.
    /// </summary>
    public static string Left(TimeSpan elapsed, int done, int total)
    {
        if (done <= 0 || done >= total) return "";
        var seconds = elapsed.TotalSeconds / done * (total - done);
        var text = seconds < 90 ? $"{Math.Ceiling(seconds).ToString(CultureInfo.InvariantCulture)} s"
            : seconds < 5400 ? $"{Math.Round(seconds / 60).ToString(CultureInfo.InvariantCulture)} min"
            : $"{(seconds / 3600).ToString("F1", CultureInfo.InvariantCulture)} h";
        return $"about {text} left";
    }
}
