using System.Text.Json.Serialization;
using Simulator.Config;
using Simulator.Randomness;
using Simulator.Specs;

namespace Simulator.Workload;

/// <summary>What a workload turned into: how many rows were read, kept, skipped, dropped or clipped.</summary>
/// <param name="Unsorted">Trace rows whose timestamp is earlier than the row before (the requests are sorted by arrival).</param>
/// <param name="BlankLines">Empty lines of a trace, skipped.</param>
public sealed record WorkloadStats(string Source, int RowsRead, int Requests, int SkippedMalformed, int DroppedFailed, int Clipped, int DroppedTooLong,
    // Written only when non-zero, so the summaries of clean traces and synthetic runs are unchanged.
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] int Unsorted = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] int BlankLines = 0)
{
    /// <summary>Requests taken as they are (generated, or given by a test): nothing dropped or clipped.</summary>
    public static WorkloadStats Given(string source, int requests) => new(source, requests, requests, 0, 0, 0, 0);

    /// <summary>What a reader should be told about how the trace was read beyond the counts of rows kept and left out.</summary>
    public IEnumerable<string> Warnings()
    {
        if (Unsorted > 0) yield return $"{Source}: {Unsorted} rows are earlier than the row before them; requests were sorted by arrival";
        if (BlankLines > 0) yield return $"{Source}: {BlankLines} blank lines skipped";
    }
}

/// <summary>Turns a workload config into the requests of a run, sorted by arrival, ids 0..n-1.</summary>
public static class WorkloadBuilder
{
    public static (RequestSpec[] Requests, WorkloadStats Stats) Build(WorkloadConfig workload, ModelSpec model, RandomStreams streams)
    {
        switch (workload)
        {
            case SyntheticWorkload synthetic:
                var requests = SyntheticGenerator.Generate(synthetic, streams);
                foreach (var r in requests.Where(r => r.TotalTokens > RequestSpec.MaxTokens).Take(1))
                    throw new ConfigException(null, "workload", $"request {r.Id}: {TooLong(r.TotalTokens)}");
                return (requests, WorkloadStats.Given("synthetic", requests.Length));
            case TraceWorkload trace:
                return FromTrace(trace, model, streams);
            default:
                throw new NotSupportedException(workload.GetType().Name);
        }
    }

    private static string TooLong(long tokens) =>
        $"prompt + output = {tokens} tokens, longer than the longest supported context ({RequestSpec.MaxTokens} tokens)";

    private static (RequestSpec[], WorkloadStats) FromTrace(TraceWorkload trace, ModelSpec model, RandomStreams streams)
    {
        var read = TraceReader.Read(trace);
        var unsorted = read.Rows.Zip(read.Rows.Skip(1)).Count(p => (p.Second.ArrivalTicks ?? 0) < (p.First.ArrivalTicks ?? 0));
        var rows = read.Rows.OrderBy(r => r.ArrivalTicks ?? 0).ToList();
        var arrivals = trace.Arrival is { } process
            ? SyntheticGenerator.Arrivals(process, rows.Count, streams)
            : rows.Select(r => ArrivalNs(r.ArrivalTicks!.Value - rows[0].ArrivalTicks!.Value, trace.RateScale)).ToArray();

        var startNs = Units.Ns(trace.StartS);
        var endNs = trace.DurationS is { } d ? startNs + Units.Ns(d) : long.MaxValue;
        var requests = new List<RequestSpec>();
        var clipped = 0;
        var tooLong = 0;
        for (var i = 0; i < rows.Count && requests.Count < (trace.MaxRequests ?? int.MaxValue); i++)
        {
            var where = new SourceLocation(trace.Path, rows[i].Line, 1);
            if (arrivals[i] == long.MaxValue && trace.DurationS is null) // beyond the clock, and no window that ends before it
                throw new ConfigException(where, "workload.path",
                    $"this request arrives more than {Units.MaxTimeS:G} s after the first (rate_scale {trace.RateScale:G}), "
                    + "beyond the simulated clock's range; select a window with start_s and duration_s");
            if (arrivals[i] < startNs || arrivals[i] >= endNs) continue;
            long prompt = rows[i].PromptTokens, output = rows[i].OutputTokens;
            if (trace.MaxRequestTokens is { } limit && prompt + output > limit)
            {
                tooLong++;
                continue;
            }
            if (trace.ClipToContext && prompt + output > model.MaxPositionTokens)
            {
                prompt = Math.Min(prompt, model.MaxPositionTokens - 1);
                output = Math.Min(output, model.MaxPositionTokens - prompt);
                clipped++;
            }
            if (prompt + output > RequestSpec.MaxTokens)
                throw new ConfigException(where, "workload.path",
                    $"{TooLong(prompt + output)}; max_request_tokens leaves such requests out, clip_to_context clips them");
            requests.Add(new RequestSpec(requests.Count, arrivals[i] - startNs, (int)prompt, (int)output));
        }
        var stats = new WorkloadStats(Path.GetFileName(trace.Path), read.Rows.Count + read.SkippedMalformed + read.DroppedFailed,
            requests.Count, read.SkippedMalformed, read.DroppedFailed, clipped, tooLong, unsorted, read.BlankLines);
        return ([.. requests], stats);
    }

    /// <summary>A trace arrival in ns from 100 ns ticks after the first; long.MaxValue when beyond <see cref="Units.MaxTimeS"/>.</summary>
    private static long ArrivalNs(long ticks, double rateScale)
    {
        // Kept in integers as before for every representable time (results stay byte-identical); the bound is checked in doubles.
        if (ticks / 1e7 / rateScale > Units.MaxTimeS) return long.MaxValue;
        return (long)Math.Round(ticks <= long.MaxValue / 100 ? ticks * 100 / rateScale : ticks * 100.0 / rateScale);
    }
}
