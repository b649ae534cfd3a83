using System.Diagnostics;
using Policies.Aligned;
using Policies.Core;
using Policies.Memory;
using Simulator.Metrics;

namespace Simulator.Bench;

/// <summary>
/// Time of one <c>aligned</c> batch decision with a large host pool: a decode GPU's share of the
/// pool holds N prefilled requests (lognormal KV lengths, median 1,000 tokens); each measured
/// decision switches to the staged batch and forms the next one by density-first search.
/// </summary>
public static class FormationBenchmark
{
    public sealed record Figure(int Pooled, int Decisions, Distribution DecisionUs, double MeanBatch, double BytesPerDecision);

    public static Figure Measure(int pooled, int decisions = 200)
    {
        var blocks = new KvBlockManager(int.MaxValue / 64, 16);
        var policy = new AlignedPolicy(new AlignedOptions(), new PolicyContext(blocks, GpuRole.Decode));
        var random = new Random(7);
        for (var i = 0; i < pooled + decisions * 64; i++)
        {
            var length = (int)Math.Clamp(Math.Exp(Math.Log(1000) + 1.0 * Normal(random)), 2, 60_000);
            policy.EnqueuePrefilled(Request.Prefilled(i, length, 2));
        }
        var times = new List<double>();
        long batched = 0, allocated = 0;
        var now = 0L;
        for (var d = 0; d <= decisions; d++)
        {
            var bytes = GC.GetAllocatedBytesForCurrentThread();
            var start = Stopwatch.GetTimestamp();
            var batch = policy.Schedule(now);
            var elapsed = Stopwatch.GetElapsedTime(start);
            if (d > 0)
            {
                // The first call also files the whole pool into the index.
                times.Add(elapsed.TotalMicroseconds);
                allocated += GC.GetAllocatedBytesForCurrentThread() - bytes;
            }
            batched += batch.Pulls.Count;
            foreach (var pull in batch.Pulls.ToList()) policy.KvArrived(pull.Request);
            // Finish the running batch so the next decision switches and forms a new candidate.
            var run = policy.Schedule(now += 1_000_000);
            foreach (var entry in run.Entries) entry.Request.Advance(entry.NewTokens);
            policy.Complete(run);
        }
        return new Figure(pooled, decisions, Distribution.Of(times), batched / (double)(decisions + 1), allocated / (double)decisions);
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
