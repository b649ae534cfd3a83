using Policies.Core;
using Policies.Memory;
using Simulator.Config;
using Simulator.CostModel;
using Simulator.Engine;
using Simulator.Fabric;
using Simulator.Metrics;
using Simulator.Runs;
using Simulator.Specs;

namespace Simulator.Serving;

/// <summary>
/// The simulated deployment: nodes of GPUs in roles, their links and host KV pools, a router,
/// and the KV moves between them. KV only moves through transfers on the links: a prefill GPU's
/// KV goes to a decode GPU directly (peer) or through the node's host pool, as configured.
/// </summary>
public sealed class Cluster
{
    private sealed record Node(int Index, NodeLinks Links, Container Pool, List<GpuWorker> Gpus)
    {
        /// <summary>The host pool's name in transfer records, formatted once.</summary>
        public readonly string HostName = $"host{Index}";

        public int Outstanding;
        /// <summary>GPUs that take new requests (colocated and prefill), in node order.</summary>
        public readonly List<GpuWorker> Entries = [];
        public readonly Dictionary<GpuWorker, List<GpuWorker>> DecodesOf = [];
        public readonly Dictionary<GpuWorker, GpuWorker> PrefillOf = [];
    }

    private readonly Simulation sim;
    private readonly PreparedRun run;
    private readonly MetricsRecorder metrics;
    private readonly List<Node> nodes = [];
    private readonly Dictionary<GpuWorker, Node> nodeOf = [];
    /// <summary>Where a handed-off request's KV is: on a prefill GPU, or (null) in its node's host pool.</summary>
    private readonly Dictionary<Request, GpuWorker?> kvHome = new(ReferenceEqualityComparer.Instance);
    private int nextNode;
    private int rotation;

    private readonly IServingBackend backend;

    /// <summary>How many requests have finished: the run ends from here (the metrics only record).</summary>
    public ServingProgress Progress { get; }

    /// <summary>The cost model of the deployment's smallest instances (and its calibration report).</summary>
    public ForwardCostModel CostModel { get; }

    /// <summary>KV bytes per token one GPU of an instance of tp GPUs holds, by tp.</summary>
    private readonly Dictionary<int, long> shardKvBytesPerToken = [];

    public Cluster(Simulation sim, PreparedRun run, MetricsRecorder metrics, IReadOnlyList<GpuRecord> gpus, BackendFactory? backendFactory = null)
    {
        this.sim = sim;
        this.run = run;
        this.metrics = metrics;
        var config = run.Config;
        var instances = config.Deployment.Instances();
        // One cost model per instance size: an instance of tp GPUs prices one GPU's shard and the collectives between them.
        var engine = EngineProfile.For(config.Policy.Name);
        var costModels = config.Deployment.TpDegrees().ToDictionary(tp => tp, tp => new ForwardCostModel(config.Model, config.Node.Gpu, config.CostModel,
            run.Calibration, engine, tp == 1 ? null : TensorParallelFor(config, engine, tp)));
        foreach (var tp in costModels.Keys) shardKvBytesPerToken[tp] = config.Model.Shard(tp).KvBytesPerToken;
        var costModel = costModels[config.Deployment.TpDegrees()[0]];
        CostModel = costModel;
        Progress = new ServingProgress(run.Requests.Length);
        backend = backendFactory?.Invoke(sim, costModel)
                  ?? new ModelledBackend(costModels, Enumerable.Range(0, config.Deployment.Nodes).Select(_ => new TransferFabric(sim)).ToList(),
                      config.Engine.LazyDecode);
        for (var n = 0; n < config.Deployment.Nodes; n++)
        {
            var node = new Node(n, new NodeLinks(config.Node, config.Deployment.GpusPerNode(), config.Deployment.Nodes > 1 ? $"node{n}-" : ""),
                new Container(sim, run.HostPoolBytes), []);
            nodes.Add(node);
            for (var g = 0; g < instances.Count; g++)
            {
                var memory = run.MemoryFor(instances[g].Tp);
                var blocks = new KvBlockManager(memory.KvBlocks, memory.BlockSizeTokens, trackIds: backend.NeedsBlockIds);
                var policy = config.Policy.Descriptor.Create(config.Policy.Options, new PolicyContext(blocks, instances[g].Role));
                var worker = new GpuWorker(sim, gpus[n * instances.Count + g], policy, blocks, backend, metrics, Progress);
                sim.Process(Serve(worker));
                node.Gpus.Add(worker);
                nodeOf[worker] = node;
            }
            PairDecodes(node);
            foreach (var (decode, prefill) in node.PrefillOf) decode.UseStagingArea(prefill.Blocks);
            node.Entries.AddRange(node.Gpus.Where(g => g.AcceptsArrivals));
        }
        sim.Process(Arrivals());
    }

    /// <summary>
    /// The instances of every node (one GPU each unless tensor parallel), their roles and first GPU of the node, as records for the metrics;
    /// instance i of a node takes the node's GPUs after those of instances 0..i-1.
    /// </summary>
    public static IReadOnlyList<GpuRecord> Layout(ExperimentConfig config)
    {
        var instances = config.Deployment.Instances();
        var records = new List<GpuRecord>();
        for (var n = 0; n < config.Deployment.Nodes; n++)
        {
            var first = 0;
            for (var i = 0; i < instances.Count; i++)
            {
                records.Add(new GpuRecord(n * instances.Count + i, n, first, instances[i].Role) { Tp = instances[i].Tp });
                first += instances[i].Tp;
            }
        }
        return records;
    }

    /// <summary>Decode GPU j of a node takes the requests of prefill GPU j mod P.</summary>
    private static void PairDecodes(Node node)
    {
        var prefill = node.Gpus.Where(g => g.Role == GpuRole.Prefill).ToList();
        var decode = node.Gpus.Where(g => g.Role == GpuRole.Decode).ToList();
        foreach (var p in prefill) node.DecodesOf[p] = [];
        for (var j = 0; j < decode.Count; j++) node.DecodesOf[prefill[j % prefill.Count]].Add(decode[j]);
        for (var p = 0; p < prefill.Count; p++)
            if (node.DecodesOf[prefill[p]].Count == 0) node.DecodesOf[prefill[p]].Add(decode[p % decode.Count]);
        for (var j = 0; j < decode.Count; j++) node.PrefillOf[decode[j]] = prefill[j % prefill.Count];
    }

    private IEnumerable<SimEvent> Arrivals()
    {
        Engine.Timeout? next = null; // one timeout, restarted for each arrival
        foreach (var spec in run.Requests)
        {
            if (spec.ArrivalNs > sim.Now) yield return sim.Timeout(ref next, spec.ArrivalNs - sim.Now);
            var node = Route();
            node.Outstanding++;
            var gpu = EntryGpu(node);
            gpu.Enqueue(new Request(spec.Id, spec.PromptTokens, spec.OutputTokens));
        }
    }

    private Node Route()
    {
        if (run.Config.Deployment.Router == Router.RoundRobin) return nodes[nextNode++ % nodes.Count];
        var best = nodes[0];
        foreach (var node in nodes) if (node.Outstanding < best.Outstanding) best = node;
        return best;
    }

    /// <summary>
    /// The GPU a new request enters at: the colocated or prefill GPU with the least load, counting
    /// for a prefill GPU the requests of the decode GPUs it feeds; ties rotate so no GPU is favoured.
    /// </summary>
    private GpuWorker EntryGpu(Node node)
    {
        var entries = node.Entries;
        var start = rotation++ % entries.Count;
        var best = entries[start];
        var bestLoad = Load(node, best);
        for (var k = 1; k < entries.Count; k++)
        {
            var candidate = entries[(start + k) % entries.Count];
            var load = Load(node, candidate);
            if (load < bestLoad) (best, bestLoad) = (candidate, load);
        }
        return best;
    }

    /// <summary>A GPU's outstanding requests and, for a prefill GPU, those of the decode GPUs it feeds.</summary>
    private static int Load(Node node, GpuWorker gpu)
    {
        var load = gpu.Outstanding;
        if (node.DecodesOf.TryGetValue(gpu, out var decodes))
            foreach (var d in decodes) load += d.Outstanding;
        return load;
    }

    private static GpuWorker LeastLoaded(List<GpuWorker> gpus)
    {
        GpuWorker? best = null;
        foreach (var gpu in gpus) if (best is null || gpu.Outstanding < best.Outstanding) best = gpu;
        return best!;
    }

    /// <summary>The collectives of an instance of <paramref name="tp"/> GPUs: NCCL's, and vLLM's custom kernel where the engine runs it and the node can.</summary>
    private static TensorParallel TensorParallelFor(Config.ExperimentConfig config, EngineProfile engine, int tp)
    {
        var node = config.Node;
        var nccl = node.AllReduceFor(tp) ?? throw new InvalidOperationException($"node '{node.Name}' has no all-reduce fit for {tp} GPUs");
        var custom = config.CostModel.AllReduce switch
        {
            AllReduceChoice.Nccl => false,
            AllReduceChoice.VllmCustom => true,
            _ => engine.CustomAllReduce,
        };
        return new TensorParallel(config.Model, nccl, custom ? node.CustomAllReduceFor(tp) : null);
    }

    /// <summary>A GPU's serving loop, its steps' outgoing work routed here.</summary>
    private IEnumerable<SimEvent> Serve(GpuWorker gpu)
    {
        foreach (var step in gpu.Run())
        {
            if (step.Wait is { } wait) yield return wait;
            else Route(gpu, step.Sent);
        }
    }

    /// <summary>Sends on what a GPU's step sent out: swap-outs and pulls start their copies, finished requests leave its node's count, prefilled requests go to a decode GPU.</summary>
    private void Route(GpuWorker gpu, in Outgoing sent)
    {
        // Indexed loops: a foreach over the lists' interface would box an enumerator for each, at every decision and pass.
        for (var i = 0; i < sent.SwapOuts.Count; i++) sim.Process(SwapOutProcess(sent.SwapOuts[i], gpu));
        for (var i = 0; i < sent.Pulls.Count; i++) sim.Process(PullIn(sent.Pulls[i], gpu));
        if (sent.Finished > 0)
        {
            nodeOf[gpu].Outstanding -= sent.Finished;
            Progress.Finish(sent.Finished);
        }
        for (var i = 0; i < sent.Handoffs.Count; i++) HandOff(sent.Handoffs[i], gpu);
    }

    /// <summary>A request's KV, one copy of every head (what the host pool holds).</summary>
    private long KvBytes(Request request) => request.ComputedTokens * run.Config.Model.KvBytesPerToken;

    /// <summary>
    /// Moves a request's KV shard by shard (<paramref name="from"/> or <paramref name="to"/> null: the node's host pool); the event fires when
    /// every shard has landed, and the bytes are those all shards moved. One-GPU instances move it in one copy, as always. A tensor-parallel
    /// instance's GPU s holds its KV heads (<see cref="ModelSpec.Shard"/>): into an instance, each GPU receives its shard (from the source
    /// instance's GPU s mod its size, or from the pool); to the pool, each GPU holding heads no lower GPU holds sends its shard (replicated
    /// KV heads go once).
    /// </summary>
    private (SimEvent Landed, long Bytes) MoveKv(Request request, KvMoveKind kind, GpuWorker? from, GpuWorker? to, Node node, IReadOnlyList<int>? freedBlocks = null)
    {
        var fromTp = from?.Record.Tp ?? 1;
        var toTp = to?.Record.Tp ?? 1;
        TransferPath PathOf(int fromShard, int toShard) => kind switch
        {
            KvMoveKind.GpuToHost => node.Links.GpuToHost(from!.Record.LocalIndex + fromShard),
            KvMoveKind.HostToGpu or KvMoveKind.HostToStaging => node.Links.HostToGpu(to!.Record.LocalIndex + toShard),
            _ => node.Links.GpuToGpu(from!.Record.LocalIndex + fromShard, to!.Record.LocalIndex + toShard),
        };
        if (fromTp == 1 && toTp == 1)
        {
            var bytes = KvBytes(request);
            return (backend.Move(new KvMove(request, bytes, kind, from?.Memory, to?.Memory, node.Index, PathOf(0, 0), freedBlocks)), bytes);
        }
        long total = 0;
        KvMove[] shards;
        if (to is null)
        {
            // To the pool: the distinct shards of the source (one replica of each KV head).
            shards = new KvMove[Math.Min(fromTp, run.Config.Model.KvHeads)];
            var shardBytes = request.ComputedTokens * shardKvBytesPerToken[fromTp];
            for (var s = 0; s < shards.Length; s++)
            {
                shards[s] = new KvMove(request, shardBytes, kind, from?.Memory, null, node.Index, PathOf(s, 0), freedBlocks);
                total += shardBytes;
            }
        }
        else
        {
            shards = new KvMove[toTp];
            var shardBytes = request.ComputedTokens * shardKvBytesPerToken[toTp];
            for (var s = 0; s < toTp; s++)
            {
                shards[s] = new KvMove(request, shardBytes, kind, from?.Memory, to.Memory, node.Index, PathOf(s % fromTp, s));
                total += shardBytes;
            }
        }
        return (backend.Move(shards), total);
    }

    /// <summary>A prefill GPU finished a request's prefill: send it on to a paired decode GPU.</summary>
    private void HandOff(Request request, GpuWorker prefill)
    {
        var node = nodeOf[prefill];
        var decode = LeastLoaded(node.DecodesOf[prefill]);
        if (run.Config.Deployment.Handoff == KvHandoff.Peer)
        {
            kvHome[request] = prefill;
            decode.EnqueuePrefilled(request);
        }
        else sim.Process(ToHostPool(request, prefill, decode, node));
    }

    private IEnumerable<SimEvent> ToHostPool(Request request, GpuWorker prefill, GpuWorker decode, Node node)
    {
        foreach (var step in CopyToHost(request, prefill, node, TransferKind.GpuToHost)) yield return step;
        prefill.Release(request);
        decode.EnqueuePrefilled(request);
    }

    /// <summary>Takes room in the node's host pool and copies the request's KV there from <paramref name="gpu"/>; its KV then lives in the pool.</summary>
    private IEnumerable<SimEvent> CopyToHost(Request request, GpuWorker gpu, Node node, TransferKind kind, IReadOnlyList<int>? freedBlocks = null)
    {
        var bytes = KvBytes(request);
        var asked = sim.Now;
        yield return node.Pool.Put(bytes);
        metrics.PoolChanged(sim.Now, node.Index, node.Pool.Level);
        var (landed, moved) = MoveKv(request, KvMoveKind.GpuToHost, gpu, null, node, freedBlocks);
        yield return landed;
        metrics.Transfer(request.Id, kind, gpu.Name, node.HostName, moved, asked, sim.Now);
        kvHome[request] = null;
    }

    /// <summary>A policy preempted a request by swap: copy its KV into the node's host pool.</summary>
    private IEnumerable<SimEvent> SwapOutProcess(SwapOut swap, GpuWorker gpu)
    {
        foreach (var step in CopyToHost(swap.Request, gpu, nodeOf[gpu], TransferKind.SwapOut, swap.Blocks)) yield return step;
        gpu.SwappedOut(swap.Request);
    }

    /// <summary>A decode GPU reserved blocks for a request: copy its KV in from where it is.</summary>
    private IEnumerable<SimEvent> PullIn(KvPull pull, GpuWorker decode)
    {
        var request = pull.Request;
        var node = nodeOf[decode];
        if (!kvHome.Remove(request, out var from))
            throw new InvalidOperationException($"Request {request.Id} was pulled but its KV is nowhere.");
        var bytes = KvBytes(request);
        var asked = sim.Now;
        if (from is null && pull.HoldOnPrefillGpu && node.PrefillOf.TryGetValue(decode, out var buffer))
        {
            foreach (var step in HoldOnPrefillGpu(request, buffer, decode, node)) yield return step;
            yield break;
        }
        if (from is null && pull.StageOnPrefillGpu && node.PrefillOf.TryGetValue(decode, out var stage))
        {
            // GPU-prefetch-for-GPU: host -> paired prefill GPU over its PCIe, then NVLink to the decode GPU.
            var (staged, toStage) = MoveKv(request, KvMoveKind.HostToStaging, null, stage, node);
            yield return staged;
            metrics.Transfer(request.Id, TransferKind.HostToGpu, node.HostName, stage.Name, toStage, asked, sim.Now);
            var hop = sim.Now;
            var (landed, moved) = MoveKv(request, KvMoveKind.StagingToGpu, stage, decode, node);
            yield return landed;
            metrics.Transfer(request.Id, TransferKind.GpuToGpu, stage.Name, decode.Name, moved, hop, sim.Now);
        }
        else
        {
            var (landed, moved) = MoveKv(request, from is null ? KvMoveKind.HostToGpu : KvMoveKind.GpuToGpu, from, decode, node);
            yield return landed;
            metrics.Transfer(request.Id, from is null ? TransferKind.HostToGpu : TransferKind.GpuToGpu,
                from is null ? node.HostName : from.Name, decode.Name, moved, asked, sim.Now);
        }
        if (from is null)
        {
            yield return node.Pool.Get(bytes);
            metrics.PoolChanged(sim.Now, node.Index, node.Pool.Level);
        }
        else from.Release(request);
        decode.KvArrived(request);
    }

    /// <summary>
    /// AlignedServe's candidate batch buffer in the prefill GPU's HBM: host -> paired prefill GPU over its PCIe, into blocks the
    /// decode GPU's policy reserved there; the KV then lives on that GPU until the policy pulls it over NVLink (freeing them).
    /// </summary>
    private IEnumerable<SimEvent> HoldOnPrefillGpu(Request request, GpuWorker buffer, GpuWorker decode, Node node)
    {
        var asked = sim.Now;
        var (landed, moved) = MoveKv(request, KvMoveKind.HostToGpu, null, buffer, node);
        yield return landed;
        metrics.Transfer(request.Id, TransferKind.HostToGpu, node.HostName, buffer.Name, moved, asked, sim.Now);
        yield return node.Pool.Get(KvBytes(request));
        metrics.PoolChanged(sim.Now, node.Index, node.Pool.Level);
        kvHome[request] = buffer;
        decode.KvArrived(request);
    }

    /// <summary>What every GPU holds, for diagnosing a run that stopped early.</summary>
    public string Describe() => string.Join("; ", nodes.SelectMany(n => n.Gpus).Select(g => g.Describe()))
        + $"; KV away from home: {kvHome.Count}";

    /// <summary>Every link of every node, for utilisation.</summary>
    public IEnumerable<Link> Links => nodes.SelectMany(n => n.Links.All);
}
