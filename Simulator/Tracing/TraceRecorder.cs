using Policies.Core;
using Simulator.Metrics;
using Simulator.Specs;
using Simulator.Workload;

namespace Simulator.Tracing;

/// <summary>A counter's value from <see cref="TimeNs"/> on; the series are named by <see cref="TraceRecorder.SeriesName"/>.</summary>
public readonly record struct CounterSample(long TimeNs, int Series, long Value);

/// <summary>
/// Collects a run's timeline for trace.json as the metrics recorder records it (<see cref="IRunObserver"/>): every pass,
/// every KV copy, counters (KV blocks used and running batch size per GPU, host pool bytes per node) and each request's
/// life. A time window and an event cap bound it: an item is kept when it overlaps the window and fits under the cap;
/// once the cap refuses one, everything later is refused too, so the trace is complete up to that simulated time.
/// What was left out is counted by kind. <see cref="TraceWriter"/> writes the file.
/// </summary>
public sealed class TraceRecorder : IRunObserver
{
    /// <summary>What the window and the cap count, by kind of item.</summary>
    public enum Item { Passes, Transfers, CounterSamples, Requests }

    private readonly long fromNs, toNs;
    private readonly IReadOnlyList<RequestSpec> requests;
    private readonly bool disaggregated;
    private readonly long[] prefillStart, pullStart, pullEnd;
    private readonly bool[] decodeStarted, viaHost;
    private readonly int[] preemptions;
    private readonly long[] lastValue;
    private readonly List<(int Request, long FirstTokenNs, long FinishNs)> finished = [];
    private readonly int[] outsideWindow = new int[4], overCap = new int[4];

    public TraceRecorder(TraceConfig config, IReadOnlyList<RequestSpec> requests, IReadOnlyList<GpuRecord> gpus)
    {
        Config = config;
        this.requests = requests;
        Gpus = gpus;
        fromNs = Units.Ns(config.FromS);
        toNs = config.ToS is { } to ? Units.Ns(to) : long.MaxValue;
        disaggregated = gpus.Any(g => g.Role == GpuRole.Decode);
        prefillStart = Filled(requests.Count);
        pullStart = Filled(requests.Count);
        pullEnd = Filled(requests.Count);
        decodeStarted = new bool[requests.Count];
        viaHost = new bool[requests.Count];
        preemptions = new int[requests.Count];
        Nodes = gpus.Count == 0 ? 0 : gpus.Max(g => g.Node) + 1;
        lastValue = Filled(2 * gpus.Count + Nodes);
    }

    private static long[] Filled(int n)
    {
        var a = new long[n];
        Array.Fill(a, -1);
        return a;
    }

    public TraceConfig Config { get; }

    public RequestSpec RequestSpec(int id) => requests[id];

    public IReadOnlyList<GpuRecord> Gpus { get; }

    public int Nodes { get; }

    public List<IterationRecord> Passes { get; } = [];

    public List<TransferRecord> Transfers { get; } = [];

    public List<CounterSample> Counters { get; } = [];

    public List<RequestLife> Requests { get; } = [];

    /// <summary>Preemptions by recompute (request, pass start), of kept and left-out requests alike.</summary>
    public List<(int Request, long TimeNs)> Preemptions { get; } = [];

    /// <summary>Trace events kept (what the cap counts).</summary>
    public long Events { get; private set; }

    /// <summary>The simulated time the cap was reached at (what was recorded from then on is left out), or null when everything in the window fitted.</summary>
    public long? CutNs { get; private set; }

    public int OutsideWindow(Item item) => outsideWindow[(int)item];

    public int OverCap(Item item) => overCap[(int)item];

    /// <summary>Counter series: per GPU its KV blocks used and its running batch size, then per node its host pool bytes.</summary>
    public string SeriesName(int series, out string unit)
    {
        if (series < 2 * Gpus.Count)
        {
            unit = series % 2 == 0 ? "blocks" : "requests";
            return $"gpu{Gpus[series / 2].Gpu} {(series % 2 == 0 ? "KV blocks used" : "running batch size")}";
        }
        unit = "bytes";
        return $"host{series - 2 * Gpus.Count} pool bytes";
    }

    /// <summary>The node a counter series belongs to (its process in the trace).</summary>
    public int SeriesNode(int series) => series < 2 * Gpus.Count ? Gpus[series / 2].Node : series - 2 * Gpus.Count;

    /// <summary>Whether an item from <paramref name="startNs"/> to <paramref name="endNs"/>, recorded at <paramref name="nowNs"/>, is kept.</summary>
    private bool Admit(Item item, long startNs, long endNs, long nowNs, int events)
    {
        if (endNs < fromNs || startNs >= toNs || (endNs == fromNs && endNs > startNs))
        {
            outsideWindow[(int)item]++;
            return false;
        }
        if (CutNs is not null || Events + events > Config.MaxEvents)
        {
            CutNs ??= nowNs;
            overCap[(int)item]++;
            return false;
        }
        Events += events;
        return true;
    }

    private void Sample(long timeNs, int series, long value, long nowNs)
    {
        if (lastValue[series] == value) return;
        lastValue[series] = value;
        if (Admit(Item.CounterSamples, timeNs, timeNs, nowNs, 1)) Counters.Add(new CounterSample(timeNs, series, value));
    }

    public void PassEntries(int gpu, long startNs, ForwardBatch batch)
    {
        var entries = batch.Entries;
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            var id = entry.Request.Id;
            if (!entry.IsPrefill) decodeStarted[id] = true;
            else if (prefillStart[id] < 0) prefillStart[id] = startNs;
        }
        foreach (var victim in batch.Preempted)
        {
            preemptions[victim.Id]++;
            Preemptions.Add((victim.Id, startNs));
        }
    }

    public void DecodeStarted(int request) => decodeStarted[request] = true;

    public void PassDone(in IterationRecord pass)
    {
        var endNs = pass.StartNs + pass.DurationNs;
        if (Admit(Item.Passes, pass.StartNs, endNs, endNs, 1)) Passes.Add(pass);
        Sample(pass.StartNs, 2 * pass.Gpu + 1, pass.Seqs, endNs);
        Sample(endNs, 2 * pass.Gpu, pass.KvBlocksUsed, endNs);
        // A request that finished in this pass: its first prefill pass (this one, for a one-token request) is known now.
        foreach (var (id, first, finish) in finished) Finish(id, first, finish);
        finished.Clear();
    }

    public void Idle(int gpu, long startNs, long endNs) => Sample(startNs, 2 * gpu + 1, 0, endNs);

    public void Transfer(in TransferRecord transfer)
    {
        var id = transfer.Request;
        if (transfer.Kind == "gpu_to_host" && !decodeStarted[id]) viaHost[id] = true;
        // The pull that brings a prefilled request to its decode GPU (one or two hops); later pulls are swap-ins.
        if (disaggregated && !decodeStarted[id] && transfer.Kind is "host_to_gpu" or "gpu_to_gpu")
        {
            pullStart[id] = pullStart[id] < 0 ? transfer.StartNs : Math.Min(pullStart[id], transfer.StartNs);
            pullEnd[id] = Math.Max(pullEnd[id], transfer.EndNs);
        }
        if (Admit(Item.Transfers, transfer.StartNs, transfer.EndNs, transfer.EndNs, 1)) Transfers.Add(transfer);
    }

    public void PoolChanged(long nowNs, int node, long usedBytes) => Sample(nowNs, 2 * Gpus.Count + node, usedBytes, nowNs);

    public void RequestFinished(int request, long firstTokenNs, long finishNs) => finished.Add((request, firstTokenNs, finishNs));

    private void Finish(int id, long firstTokenNs, long finishNs)
    {
        var life = new RequestLife(id, requests[id].ArrivalNs, prefillStart[id], firstTokenNs, pullStart[id], pullEnd[id], viaHost[id],
            finishNs);
        // The request's slice and its phases (a begin and an end each) and its preemptions (an instant each).
        var events = 2 * (1 + life.Phases().Count()) + preemptions[id];
        if (Admit(Item.Requests, life.ArrivalNs, finishNs, finishNs, events)) Requests.Add(life);
    }

    /// <summary>What the window and the cap left out, in words, or null when nothing was.</summary>
    public string? LeftOut()
    {
        static string Counts(int[] counts) => string.Join(", ", Enum.GetValues<Item>().Where(i => counts[(int)i] > 0)
            .Select(i => FormattableString.Invariant($"{counts[(int)i]:N0} {ItemName(i)}")));
        var parts = new List<string>();
        if (outsideWindow.Any(c => c > 0))
            parts.Add(FormattableString.Invariant(
                $"outside the window [{Config.FromS:0.######} s, {(Config.ToS is { } to ? FormattableString.Invariant($"{to:0.######} s") : "end")}): {Counts(outsideWindow)}"));
        if (overCap.Any(c => c > 0))
            parts.Add(FormattableString.Invariant(
                $"after the cap of {Config.MaxEvents:N0} events was reached at t={Units.Seconds(CutNs!.Value):0.######} s: {Counts(overCap)}"));
        return parts.Count == 0 ? null : string.Join("; ", parts);
    }

    public static string ItemName(Item item) => item switch
    {
        Item.Passes => "passes",
        Item.Transfers => "transfers",
        Item.CounterSamples => "counter samples",
        _ => "requests",
    };
}
