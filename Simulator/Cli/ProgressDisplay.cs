using Spectre.Console;

namespace Simulator.Cli;

/// <summary>Runs work on a worker thread and shows a progress bar only if it takes longer than a second.</summary>
public static class ProgressDisplay
{
    private static readonly TimeSpan Delay = TimeSpan.FromSeconds(1);

    public static T Run<T>(int total, Func<Action<int, int>, T> work)
    {
        var done = 0;
        var task = Task.Run(() => work((finished, _) => Volatile.Write(ref done, finished)));
        if (task.Wait(Delay) || !AnsiConsole.Profile.Capabilities.Interactive) return task.GetAwaiter().GetResult();
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var bar = ctx.AddTask("requests finished", maxValue: total);
                while (!task.Wait(TimeSpan.FromMilliseconds(100))) bar.Value = Volatile.Read(ref done);
                bar.Value = total;
            });
        return task.GetAwaiter().GetResult();
    }
}
