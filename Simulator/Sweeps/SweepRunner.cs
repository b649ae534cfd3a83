using System.Diagnostics;
using System.Globalization;
using Simulator.Output;
using Simulator.Runs;

namespace Simulator.Sweeps;

/// <summary>
/// A deterministic subset of a sweep's runs: shard K of N (1-based) takes the distinct runs whose
/// position is K-1 modulo N, so the N shards together run each run exactly once.
/// </summary>
public sealed record Shard(int Index, int Count)
{
    public bool Contains(int position) => position % Count == Index - 1;

    public override string ToString() => $"{Index}/{Count}";

    /// <summary>Parses <c>K/N</c> with 1 &lt;= K &lt;= N.</summary>
    public static Shard Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var k)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 && k >= 1 && k <= n)
            return new Shard(k, n);
        throw new Config.ConfigException(null, "--shard", $"'{text}': expected K/N with 1 <= K <= N, for example 2/8");
    }

    /// <summary>
    /// The shard of a Slurm array task: SLURM_ARRAY_TASK_ID counted from SLURM_ARRAY_TASK_MIN (0 when
    /// unset) among SLURM_ARRAY_TASK_COUNT tasks; null outside a job array.
    /// </summary>
    public static Shard? FromEnvironment(Func<string, string?>? env = null)
    {
        env ??= Environment.GetEnvironmentVariable;
        if (env("SLURM_ARRAY_TASK_ID") is not { } id || env("SLURM_ARRAY_TASK_COUNT") is not { } count) return null;
        var min = env("SLURM_ARRAY_TASK_MIN") ?? "0";
        if (!int.TryParse(id, out var i) || !int.TryParse(count, out var n) || !int.TryParse(min, out var m) || n < 1 || i - m < 0 || i - m >= n)
            throw new Config.ConfigException(null, "SLURM_ARRAY_TASK_ID",
                $"cannot derive a shard from SLURM_ARRAY_TASK_ID={id}, SLURM_ARRAY_TASK_MIN={min}, SLURM_ARRAY_TASK_COUNT={count}; use a contiguous --array range or pass --shard K/N");
        return new Shard(i - m + 1, n);
    }
}

/// <summary>Progress of a sweep: runs finished of those this invocation has to do.</summary>
public sealed record SweepProgress(int Done, int ToDo, int Failed, SweepRun? Last, double LastSeconds, string? LastError);

public sealed record SweepOptions(int Jobs = 1, Shard? Shard = null, bool RetryFailed = false)
{
    public int Jobs { get; init; } = Jobs >= 1 ? Jobs : throw new ArgumentOutOfRangeException(nameof(Jobs), "at least one job");
}

/// <summary>What a sweep invocation found and did.</summary>
/// <param name="AlreadyDone">Runs of this shard that a previous invocation finished.</param>
/// <param name="Failed">Runs that failed in this invocation.</param>
/// <param name="FailedEarlier">Runs of this shard recorded as failed by a previous invocation and not retried.</param>
public sealed record SweepOutcome(int Runs, int InShard, int AlreadyDone, int Ran, int Failed, int Missing, int FailedEarlier = 0)
{
    public bool Complete => Missing == 0;

    /// <summary>
    /// Whether any run of this shard stands failed, now or from before: a resumed sweep that skips recorded
    /// failures must not report success (a Slurm array re-run would take it as done).
    /// </summary>
    public bool AnyFailed => Failed + FailedEarlier > 0;
}

/// <summary>
/// Runs a sweep's missing runs in parallel, each into runs/&lt;hash&gt;/ atomically; a failing
/// run is recorded (error.txt) and the others go on; then writes the tables, figures and report.
/// Results do not depend on the degree of parallelism: each run is independent and seeded.
/// </summary>
public static class SweepRunner
{
    public static SweepOutcome Run(SweepPlan plan, string dir, SweepOptions options, Action<SweepProgress>? progress = null,
        CancellationToken cancel = default)
    {
        ResultsTarget.Claim(dir, SweepManifest.File);
        var manifest = SweepManifest.Of(plan);
        manifest.Write(dir, plan.Figures);
        ResultsFolder.WriteFileAtomically(Path.Combine(dir, SweepReport.SourceCopy), tmp => File.Copy(plan.Source, tmp, overwrite: true));
        var runsDir = Path.Combine(dir, SweepManifest.RunsFolder);
        Directory.CreateDirectory(runsDir);
        ResultsFolder.RemoveStale(runsDir);
        ResultsFolder.RemoveStale(dir);

        var distinct = plan.Runs.DistinctBy(r => r.Hash).ToList();
        var mine = distinct.Where((_, i) => options.Shard?.Contains(i) ?? true).ToList();
        var todo = new List<SweepRun>();
        int alreadyDone = 0, failedEarlier = 0;
        foreach (var run in mine)
        {
            var state = SweepManifest.StateOf(dir, run.Hash);
            if (state == RunState.Done) alreadyDone++;
            else if (state == RunState.Failed && !options.RetryFailed) failedEarlier++;
            else todo.Add(run);
        }

        var done = 0;
        var failed = 0;
        var gate = new object();
        progress?.Invoke(new SweepProgress(0, todo.Count, 0, null, 0, null));
        Parallel.ForEach(todo, new ParallelOptions { MaxDegreeOfParallelism = options.Jobs, CancellationToken = cancel }, run =>
        {
            var clock = Stopwatch.StartNew();
            var error = Execute(run, plan, dir, cancel);
            lock (gate)
            {
                done++;
                if (error is not null) failed++;
                progress?.Invoke(new SweepProgress(done, todo.Count, failed, run, clock.Elapsed.TotalSeconds, error));
            }
        });

        var missing = plan.Runs.DistinctBy(r => r.Hash).Count(r => SweepManifest.StateOf(dir, r.Hash) == RunState.Missing);
        SweepResults.WriteAll(dir);
        return new SweepOutcome(distinct.Count, mine.Count, alreadyDone, done, failed, missing, failedEarlier);
    }

    /// <summary>Runs one point into its folder; returns the error recorded, or null.</summary>
    private static string? Execute(SweepRun run, SweepPlan plan, string dir, CancellationToken cancel)
    {
        var target = SweepManifest.RunDir(dir, run.Hash);
        if (Directory.Exists(target)) Directory.Delete(target, recursive: true); // a retried failure, or a folder without results
        var point = SweepManifest.Serialize(SweepManifest.Entry(run));
        RunResult result;
        try
        {
            var prepared = PreparedRun.From(run.Config);
            result = SingleRun.Execute(prepared, cancel: cancel);
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception e)
        {
            var message = e is Config.ConfigException ? e.Message : $"{e.GetType().Name}: {e.Message}";
            ResultsFolder.WriteIfAbsent(target, d =>
            {
                File.WriteAllText(Path.Combine(d, SweepManifest.PointFile), point);
                File.WriteAllText(Path.Combine(d, ResultsWriter.ResolvedConfigFile), Config.ConfigWriter.ToYaml(run.Config));
                File.WriteAllText(Path.Combine(d, SweepManifest.ErrorFile), $"{run.Describe(plan.Spec.Dimensions)}\n{message}\n");
            });
            return message;
        }
        cancel.ThrowIfCancellationRequested();
        ResultsFolder.WriteIfAbsent(target, d =>
        {
            ResultsWriter.Write(d, result);
            File.WriteAllText(Path.Combine(d, SweepManifest.PointFile), point);
            Reports.RunReport.Write(d); // without figures: a sweep's runs skip them; `plot` on the folder draws them
        });
        return null;
    }
}
