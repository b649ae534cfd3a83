using Policies.Core;
using Simulator.CostModel;
using Simulator.Workload;

namespace Simulator.Metrics;

/// <summary>
/// Collects what happened during a run: per-request timestamps, per-iteration records,
/// per-GPU time, KV transfers and host-pool occupancy. It only records;
/// <see cref="RunSummary"/> computes the statistics and <see cref="Output.ResultsWriter"/> writes them.
/// </summary>
public sealed class MetricsRecorder
{
    private readonly ChunkedList<IterationRecord> iterations = new();
    private readonly ChunkedList<TransferRecord> transfers = new();
    private readonly ChunkedList<(long TimeNs, int Node, long UsedBytes)> pool = new();

    private readonly ChunkedList<long> iterationNs = new();
    private readonly bool[] decodeCapable;

    /// <param name="keepIterations">Keep every pass's record (for iterations.csv); without them only the aggregates the summary needs are kept.</param>
    /// <param name="observer">Sees every record as it is made (the trace); null for none.</param>
    public MetricsRecorder(IReadOnlyList<RequestSpec> requests, IReadOnlyList<GpuRecord> gpus, bool keepIterations = true, IRunObserver? observer = null)
    {
        Observer = observer;
        KeepsIterations = keepIterations;
        Requests = requests;
        Gpus = gpus;
        decodeCapable = gpus.Select(g => g.Role != GpuRole.Prefill).ToArray();
        FirstTokenNs = new long[requests.Count];
        SecondTokenNs = new long[requests.Count];
        FinishNs = new long[requests.Count];
        Preemptions = new int[requests.Count];
        Array.Fill(FirstTokenNs, -1);
        Array.Fill(SecondTokenNs, -1);
        Array.Fill(FinishNs, -1);
    }

    public IReadOnlyList<RequestSpec> Requests { get; }

    /// <summary>What sees the records as they are made (the trace), or null.</summary>
    public IRunObserver? Observer { get; }

    public IReadOnlyList<GpuRecord> Gpus { get; }

    public long[] FirstTokenNs { get; }

    /// <summary>When each request's second token (its first decode step's) was emitted; -1 before it, or when it came in a standing batch's bulk.</summary>
    public long[] SecondTokenNs { get; }

    public long[] FinishNs { get; }

    public int[] Preemptions { get; }

    /// <summary>Every pass's record; empty when the recorder does not keep them (<see cref="KeepsIterations"/>).</summary>
    public IReadOnlyList<IterationRecord> Iterations => iterations;

    public bool KeepsIterations { get; }

    /// <summary>Forward passes recorded (kept or not).</summary>
    public int IterationCount => iterationNs.Count;

    /// <summary>Each pass's duration in nanoseconds, in the order recorded.</summary>
    public IReadOnlyList<long> IterationNs => iterationNs;

    /// <summary>The most KV blocks any GPU had in use after a pass.</summary>
    public int PeakKvBlocksUsed { get; private set; }

    /// <summary>Passes of decode-capable GPUs (colocated and decode roles).</summary>
    public int DecodeGpuIterations { get; private set; }

    /// <summary>Decode-GPU passes in which members of two batches ran together (AlignedServe's old and new batch coexisting).</summary>
    public int DecodeGpuBatchCoexisting { get; private set; }

    /// <summary>Decode-GPU passes that brought a new batch in (AlignedServe's batch switch as the paper counts it).</summary>
    public int DecodeGpuBatchSwitches { get; private set; }

    public IReadOnlyList<TransferRecord> Transfers => transfers;

    /// <summary>Host KV pool occupancy after each change, per node.</summary>
    public IReadOnlyList<(long TimeNs, int Node, long UsedBytes)> PoolSamples => pool;

    /// <summary>Requests recorded as finished (the serving loop decides when a request finishes and when the run ends).</summary>
    public int Finished { get; private set; }

    /// <summary>Whether every request's finish was recorded.</summary>
    public bool AllFinished => Finished == Requests.Count;

    /// <summary>Records a token emitted at <paramref name="nowNs"/>, and the request's finish when it was its last.</summary>
    public void TokenEmitted(Request request, long nowNs)
    {
        // The request counts its tokens (a standing batch's passes included): its second is its first decode step's.
        TokenTimes(request.Id, request.GeneratedTokens, nowNs);
        if (request.Phase != RequestPhase.Finished) return;
        if (FinishNs[request.Id] >= 0) throw new InvalidOperationException($"Request {request.Id} finished twice.");
        FinishNs[request.Id] = nowNs;
        Preemptions[request.Id] = request.Preemptions;
        Finished++;
        Observer?.RequestFinished(request.Id, FirstTokenNs[request.Id], nowNs);
    }

    /// <summary>
    /// A standing batch's member emitted its <paramref name="token"/>-th token (1 or 2), which <see cref="TokenEmitted"/> would have
    /// seen with that many tokens generated (the request's own count catches up when the batch ends); its first decode pass for the
    /// observer.
    /// </summary>
    public void EarlyTokenEmitted(Request request, int token, long nowNs)
    {
        TokenTimes(request.Id, token, nowNs);
        Observer?.DecodeStarted(request.Id);
    }

    /// <summary>A request's <paramref name="token"/>-th token came: its first token's time if none is recorded yet, its second's.</summary>
    private void TokenTimes(int request, int token, long nowNs)
    {
        if (FirstTokenNs[request] < 0) FirstTokenNs[request] = nowNs;
        else if (token == 2) SecondTokenNs[request] = nowNs;
    }

    public void IterationDone(int gpu, long startNs, ForwardBatch batch, IterationCost cost, int kvBlocksUsed, int waiting)
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
        Observer?.PassEntries(gpu, startNs, batch);
        IterationDone(gpu, startNs, cost, new PassTotals(batch.Entries.Count, prefill, batch.TokenCount, kvSum, kvMax, kvBlocksUsed, waiting,
            batch.Preempted.Count, batch.IsBatchSwitch, batch.BringsNewBatch));
    }

    /// <summary>A pass given by its totals (a standing batch's, which has no entries to walk, and brings no new batch in).</summary>
    public void IterationDone(int gpu, long startNs, IterationCost cost, in PassTotals pass)
    {
        if (KeepsIterations || Observer is not null)
        {
            var row = new IterationRecord(gpu, startNs, cost.DurationNs, pass.Seqs, pass.PrefillSeqs, pass.NewTokens, pass.KvTokensSum, pass.KvTokensMax,
                cost.DenseNs, cost.DecodeAttentionNs, cost.PrefillAttentionNs, cost.BubbleNs, pass.KvBlocksUsed, pass.Waiting, pass.Preempted, pass.BatchSwitch,
                cost.HostNs, pass.NewBatch);
            if (KeepsIterations) iterations.Add(row);
            Observer?.PassDone(row);
        }
        iterationNs.Add(cost.DurationNs);
        PeakKvBlocksUsed = Math.Max(PeakKvBlocksUsed, pass.KvBlocksUsed);
        var record = Gpus[gpu];
        if (decodeCapable[gpu])
        {
            DecodeGpuIterations++;
            if (pass.BatchSwitch) DecodeGpuBatchCoexisting++;
            if (pass.NewBatch) DecodeGpuBatchSwitches++;
        }
        record.BusyNs += cost.DurationNs;
        record.BubbleNs += cost.BubbleNs;
        record.Iterations++;
    }

    /// <summary>Passes run as standing batches (lazy per-request state); how the run was computed, not what it modelled.</summary>
    public long StandingPasses { get; private set; }

    public void StandingPassDone() => StandingPasses++;

    public void Idle(int gpu, long startNs, long endNs, bool waitingForKv)
    {
        if (waitingForKv) Gpus[gpu].WaitingForKvNs += endNs - startNs;
        Observer?.Idle(gpu, startNs, endNs);
    }

    /// <summary>A KV copy of <paramref name="request"/> of <paramref name="bytes"/>, asked for at <paramref name="startNs"/>, landed at <paramref name="endNs"/>.</summary>
    public void Transfer(int request, TransferKind kind, string from, string to, long bytes, long startNs, long endNs)
    {
        var record = new TransferRecord(request, TransferKinds.Name(kind), from, to, bytes, startNs, endNs);
        transfers.Add(record);
        Observer?.Transfer(record);
    }

    /// <summary>Wall-clock times of the policy decisions (measured, so not deterministic).</summary>
    public DecisionTimes Scheduling { get; } = new();

    /// <summary>A policy decision took <paramref name="stopwatchTicks"/>.</summary>
    public void SchedulingTook(long stopwatchTicks) => Scheduling.Add(stopwatchTicks);

    public void PoolChanged(long nowNs, int node, long usedBytes)
    {
        pool.Add((nowNs, node, usedBytes));
        Observer?.PoolChanged(nowNs, node, usedBytes);
    }
}
