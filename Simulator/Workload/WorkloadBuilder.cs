using Simulator.Randomness;
using Simulator.Specs;

namespace Simulator.Workload;

/// <summary>What a workload turned into: how many rows were read, kept, skipped, dropped or clipped.</summary>
public sealed record WorkloadStats(string Source, int RowsRead, int Requests, int SkippedMalformed, int DroppedFailed, int Clipped, int DroppedTooLong)
{
    /// <summary>Requests taken as they are (generated, or given by a test): nothing dropped or clipped.</summary>
    public static WorkloadStats Given(string source, int requests) => new(source, requests, requests, 0, 0, 0, 0);
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
                return (requests, WorkloadStats.Given("synthetic", requests.Length));
            case TraceWorkload trace:
                return FromTrace(trace, model, streams);
            default:
                throw new NotSupportedException(workload.GetType().Name);
        }
    }

    private static (RequestSpec[], WorkloadStats) FromTrace(TraceWorkload trace, ModelSpec model, RandomStreams streams)
    {
        var read = TraceReader.Read(trace);
        var rows = read.Rows.OrderBy(r => r.ArrivalTicks ?? 0).ToList();
        var arrivals = trace.Arrival is { } process
            ? SyntheticGenerator.Arrivals(process, rows.Count, streams)
            : rows.Select(r => (long)Math.Round((r.ArrivalTicks!.Value - rows[0].ArrivalTicks!.Value) * 100 / trace.RateScale)).ToArray();

        var startNs = Units.Ns(trace.StartS);
        var endNs = trace.DurationS is { } d ? startNs + Units.Ns(d) : long.MaxValue;
        var requests = new List<RequestSpec>();
        var clipped = 0;
        var tooLong = 0;
        for (var i = 0; i < rows.Count && requests.Count < (trace.MaxRequests ?? int.MaxValue); i++)
        {
            if (arrivals[i] < startNs || arrivals[i] >= endNs) continue;
            var (prompt, output) = (rows[i].PromptTokens, rows[i].OutputTokens);
            if (trace.MaxRequestTokens is { } limit && (long)prompt + output > limit)
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
            requests.Add(new RequestSpec(requests.Count, arrivals[i] - startNs, prompt, output));
        }
        var stats = new WorkloadStats(Path.GetFileName(trace.Path), read.Rows.Count + read.SkippedMalformed + read.DroppedFailed,
            requests.Count, read.SkippedMalformed, read.DroppedFailed, clipped, tooLong);
        return ([.. requests], stats);
    }
}
