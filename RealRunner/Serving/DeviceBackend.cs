using Policies.Core;
using RealRunner.Device;
using RealRunner.Kernels;
using RealRunner.Memory;
using RealRunner.Transfers;
using Simulator.CostModel;
using Simulator.Engine;
using Simulator.Metrics;
using Simulator.Output;
using Simulator.Runs;
using Simulator.Serving;

namespace RealRunner.Serving;

/// <summary>One request's share of one executed forward pass.</summary>
public readonly record struct BatchMember(int Iteration, int Gpu, long StartNs, int Request, int NewTokens, int ContextTokens, bool Prefill);

/// <summary>
/// The serving backend of a device run: the simulator's serving logic (router, policies, block
/// managers, when KV moves) drives it; every forward pass runs the model's kernels on the device
/// over the GPU's real KV store, and every KV move is a real copy (device to host pool and back,
/// device to device or peer, through a staging buffer for GPU prefetch). The run's clock advances
/// by the measured device times, so the outputs have the simulator's format and meaning.
/// Logical GPU g runs on accelerator g mod (number of accelerators).
/// </summary>
public sealed class DeviceBackend : IServingBackend, IDisposable
{
    private readonly Simulation sim;
    private readonly PreparedRun run;
    private readonly KvLayout layout;
    private readonly int maxBlocksPerSeq;
    private readonly int splitKvTokens;
    private readonly Dictionary<ILGPU.Runtime.Accelerator, DeviceStreams> streams = [];
    private readonly Dictionary<ILGPU.Runtime.Accelerator, DeviceModel> models = [];
    private readonly List<DeviceKvStore> stores = [];
    private readonly List<StagingArea> staging = [];
    private readonly List<HostKvPool> pools = [];
    private readonly KvCopier copier;
    private readonly List<BatchMember> members = [];
    private int iteration;

    public DeviceBackend(DeviceSession session, PreparedRun run, Simulation sim, int gpuCount, long hostPoolBytesPerNode)
    {
        this.sim = sim;
        this.run = run;
        var model = run.Config.Model;
        layout = new KvLayout(model.Layers, model.KvHeads, model.HeadDim, run.Memory.BlockSizeTokens);
        maxBlocksPerSeq = (run.Requests.Max(r => r.PromptTokens + r.OutputTokens) + layout.BlockSize - 1) / layout.BlockSize;
        splitKvTokens = run.Config.CostModel.AttentionKernel == AttentionKernel.SplitKv ? run.Config.CostModel.SplitKvPartitionTokens ?? AttentionLaunch.GenericSplitTokens : 0;
        foreach (var accelerator in session.Accelerators)
        {
            var s = new DeviceStreams(accelerator);
            streams[accelerator] = s;
            models[accelerator] = new DeviceModel(model, s);
        }
        for (var g = 0; g < gpuCount; g++)
        {
            var accelerator = session.Accelerators[g % session.Accelerators.Count];
            stores.Add(new DeviceKvStore(accelerator, layout, run.Memory.KvBlocks, $"gpu{g}"));
            staging.Add(new StagingArea(accelerator, layout.BlockElements, $"gpu{g}"));
        }
        for (var n = 0; n < run.Config.Deployment.Nodes; n++)
            pools.Add(new HostKvPool(session.Primary, layout.BlockElements, hostPoolBytesPerNode));
        copier = new KvCopier(a => streams[a]);
        Warm();
    }

    /// <summary>One untimed pass per device first, so the first measured iteration does not pay for first launches.</summary>
    private void Warm()
    {
        foreach (var store in stores.DistinctBy(s => s.Accelerator))
        {
            var tables = new int[maxBlocksPerSeq];
            models[store.Accelerator].Run(store, new ForwardPlan(1, 1, [0, 0], [0, 1], tables, 1, 1), maxBlocksPerSeq, splitKvTokens);
        }
    }

    /// <summary>Copies of the prefetch path that ran inside one device (staging buffer and a second stream) instead of between two.</summary>
    public int EmulatedPeerCopies { get; private set; }

    public int RealPeerCopies { get; private set; }

    public IReadOnlyList<BatchMember> Members => members;

    public IterationCost Forward(GpuMemory gpu, ForwardBatch batch)
    {
        var entries = batch.Entries.OrderBy(e => e.IsPrefill ? 0 : 1).ToList(); // prefill rows first, then decode rows
        var prefillRows = entries.Where(e => e.IsPrefill).Sum(e => e.NewTokens);
        var rows = prefillRows + entries.Where(e => !e.IsPrefill).Sum(e => e.NewTokens);
        var rowSeq = new int[rows];
        var rowPos = new int[rows];
        var tables = new int[entries.Count * maxBlocksPerSeq];
        var row = 0;
        var sampled = 0;
        for (var s = 0; s < entries.Count; s++)
        {
            var e = entries[s];
            var blocks = gpu.Blocks.BlocksOf(e.Request);
            var needed = (e.ContextTokens + layout.BlockSize - 1) / layout.BlockSize;
            if (blocks.Count < needed)
                throw new InvalidOperationException($"gpu{gpu.Gpu}: request {e.Request.Id} runs {e.ContextTokens} tokens with {blocks.Count} blocks");
            for (var b = 0; b < needed; b++) tables[s * maxBlocksPerSeq + b] = blocks[b];
            for (var p = e.ContextTokens - e.NewTokens; p < e.ContextTokens; p++)
            {
                rowSeq[row] = s;
                rowPos[row++] = p;
            }
            if (e.NewTokens == e.Request.PendingTokens) sampled++;
            members.Add(new BatchMember(iteration, gpu.Gpu, sim.Now, e.Request.Id, e.NewTokens, e.ContextTokens, e.IsPrefill));
        }
        iteration++;
        var store = stores[gpu.Gpu];
        var timing = models[store.Accelerator].Run(store, new ForwardPlan(prefillRows, rows - prefillRows, rowSeq, rowPos, tables, entries.Count, sampled),
            maxBlocksPerSeq, splitKvTokens);
        var total = Ns(timing.Total);
        var prefill = Ns(timing.PrefillAttention);
        var decode = Ns(timing.DecodeAttention);
        return new IterationCost(total, Math.Max(0, total - prefill - decode), decode, prefill, 0, 0);
    }

    public SimEvent Move(KvMove move)
    {
        var request = move.Request;
        var blocks = (int)((move.Bytes / run.Config.Model.KvBytesPerToken + layout.BlockSize - 1) / layout.BlockSize);
        var pool = pools[move.Node];
        // A swap-out's blocks were freed by the decision that preempted it: the move names them.
        IReadOnlyList<int> Held(GpuMemory gpu) => move.FreedBlocks ?? (gpu.Blocks.BlocksOf(request) is { Count: > 0 } held ? held
            : throw new InvalidOperationException($"gpu{gpu.Gpu} holds no blocks of request {request.Id}"));
        IReadOnlyList<int> First(IReadOnlyList<int> list) => list.Count > blocks ? list.Take(blocks).ToList() : list;
        var timing = move.Kind switch
        {
            KvMoveKind.GpuToHost => copier.ToHost(stores[move.From!.Value.Gpu], First(Held(move.From!.Value)), pool, request),
            KvMoveKind.HostToGpu => copier.FromHost(pool, request, stores[move.To!.Value.Gpu], First(move.To!.Value.Blocks.BlocksOf(request)), release: true),
            KvMoveKind.GpuToGpu => copier.DeviceToDevice(stores[move.From!.Value.Gpu], First(Held(move.From!.Value)), stores[move.To!.Value.Gpu],
                First(move.To!.Value.Blocks.BlocksOf(request))),
            KvMoveKind.HostToStaging => copier.HostToStaging(pool, request, staging[move.To!.Value.Gpu]),
            KvMoveKind.StagingToGpu => Staged(move, pool, First(move.To!.Value.Blocks.BlocksOf(request))),
            _ => throw new ArgumentOutOfRangeException(nameof(move), move.Kind, null),
        };
        foreach (var link in move.Path.Links) link.Carry(timing.Bytes);
        return sim.Timeout(Math.Max(1, Ns(timing.Time)));
    }

    private CopyTiming Staged(KvMove move, HostKvPool pool, IReadOnlyList<int> blocks)
    {
        var timing = copier.StagingToDevice(staging[move.From!.Value.Gpu], move.Request, stores[move.To!.Value.Gpu], blocks);
        pool.Release(move.Request);
        if (timing.Emulated) EmulatedPeerCopies++;
        else RealPeerCopies++;
        return timing;
    }

    private static long Ns(TimeSpan t) => (long)Math.Round(t.TotalMilliseconds * 1e6);

    /// <summary>batches.csv: every executed pass's members (which requests, how many new tokens, their KV lengths); (gpu, start_s) joins iterations.csv.</summary>
    public void WriteBatches(string path) =>
        CsvTable.Write(path, ["iteration", "gpu", "start_s", "request", "new_tokens", "context_tokens", "prefill"], members,
            m => [m.Iteration, m.Gpu, Simulator.Specs.Units.Seconds(m.StartNs), m.Request, m.NewTokens, m.ContextTokens, m.Prefill ? 1 : 0]);

    public void Dispose()
    {
        foreach (var s in stores) s.Dispose();
        foreach (var s in staging) s.Dispose();
        foreach (var p in pools) p.Dispose();
        foreach (var m in models.Values) m.Dispose();
        foreach (var s in streams.Values) s.Dispose();
    }
}
