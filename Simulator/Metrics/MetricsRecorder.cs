using Policies.Core;
using Simulator.CostModel;
using Simulator.Workload;

namespace Simulator.Metrics;

/// <summary>
/// Collects what happened during a run: per-request timestamps and per-iteration records.
/// It only records; <see cref="RunSummary"/> computes the statistics and
/// <see cref="Output.ResultsWriter"/> writes them.
/// </summary>
public sealed class MetricsRecorder
{
    private readonly List<IterationRecord> iterations = [];

    public MetricsRecorder(IReadOnlyList<RequestSpec> requests)
    {
        Requests = requests;
        FirstTokenNs = new long[requests.Count];
        FinishNs = new long[requests.Count];
        Preemptions = new int[requests.Count];
        TokensEmitted = new int[requests.Count];
        Array.Fill(FirstTokenNs, -1);
        Array.Fill(FinishNs, -1);
    }

    public IReadOnlyList<RequestSpec> Requests { get; }

    public long[] FirstTokenNs { get; }

    public long[] FinishNs { get; }

    public int[] Preemptions { get; }

    /// <summary>Tokens each request emitted (must end equal to its output length).</summary>
    public int[] TokensEmitted { get; }

    public IReadOnlyList<IterationRecord> Iterations => iterations;

    public int Finished { get; private set; }

    public long BusyNs { get; private set; }

    /// <summary>Records a token emitted at <paramref name="nowNs"/>; the request may have finished with it.</summary>
    public void TokenEmitted(Request request, long nowNs)
    {
        TokensEmitted[request.Id]++;
        if (FirstTokenNs[request.Id] < 0) FirstTokenNs[request.Id] = nowNs;
        if (request.Phase != RequestPhase.Finished) return;
        if (FinishNs[request.Id] >= 0) throw new InvalidOperationException($"Request {request.Id} finished twice.");
        FinishNs[request.Id] = nowNs;
        Preemptions[request.Id] = request.Preemptions;
        Finished++;
    }

    public void IterationDone(long startNs, ForwardBatch batch, IterationCost cost, int kvBlocksUsed, int waiting)
    {
        int prefill = 0, kvMax = 0;
        long kvSum = 0;
        for (var i = 0; i < batch.Entries.Count; i++)
        {
            var entry = batch.Entries[i];
            if (entry.IsPrefill) prefill++;
            kvSum += entry.ContextTokens;
            kvMax = Math.Max(kvMax, entry.ContextTokens);
        }
        iterations.Add(new IterationRecord(iterations.Count, startNs, cost.DurationNs, batch.Entries.Count, prefill,
            batch.TokenCount, kvSum, kvMax, cost.DenseNs, cost.DecodeAttentionNs, cost.PrefillAttentionNs, cost.BubbleNs,
            kvBlocksUsed, waiting, batch.Preempted.Count));
        BusyNs += cost.DurationNs;
    }
}
