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

    /// <summary>The cost model the modelled backend uses (and its calibration report).</summary>
    public ForwardCostModel CostModel { get; }

    public Cluster(Simulation sim, PreparedRun run, MetricsRecorder metrics, IReadOnlyList<GpuRecord> gpus, BackendFactory? backendFactory = null)
    {
        this.sim = sim;
        this.run = run;
        this.metrics = metrics;
        var config = run.Config;
        var roles = config.Deployment.Roles();
        var costModel = new ForwardCostModel(config.Model, config.Node.Gpu, config.CostModel, run.Calibration, EngineProfile.For(config.Policy.Name));
        CostModel = costModel;
        backend = backendFactory?.Invoke(sim, costModel)
                  ?? new ModelledBackend(costModel, Enumerable.Range(0, config.Deployment.Nodes).Select(_ => new TransferFabric(sim)).ToList(),
                      config.Engine.LazyDecode);
        for (var n = 0; n < config.Deployment.Nodes; n++)
        {
            var node = new Node(n, new NodeLinks(config.Node, roles.Count, config.Deployment.Nodes > 1 ? $"node{n}-" : ""),
                new Container(sim, run.HostPoolBytes), []);
            nodes.Add(node);
            for (var g = 0; g < roles.Count; g++)
            {
                var blocks = new KvBlockManager(run.Memory.KvBlocks, run.Memory.BlockSizeTokens, trackIds: backend.NeedsBlockIds);
                var policy = config.Policy.Descriptor.Create(config.Policy.Options, new PolicyContext(blocks, roles[g]));
                var worker = new GpuWorker(sim, gpus[n * roles.Count + g], roles[g], policy, blocks, backend, metrics, this);
                node.Gpus.Add(worker);
                nodeOf[worker] = node;
            }
            PairDecodes(node);
            foreach (var (decode, prefill) in node.PrefillOf) decode.Policy.UseStagingArea(prefill.Blocks);
            node.Entries.AddRange(node.Gpus.Where(g => g.AcceptsArrivals));
        }
        sim.Process(Arrivals());
    }

    /// <summary>GPUs per node and their roles, as records for the metrics.</summary>
    public static IReadOnlyList<GpuRecord> Layout(ExperimentConfig config)
    {
        var roles = config.Deployment.Roles();
        return Enumerable.Range(0, config.Deployment.Nodes)
            .SelectMany(n => roles.Select((role, g) => new GpuRecord(n * roles.Count + g, n, g, ConfigNames.EnumName(role))))
            .ToList();
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
            gpu.Policy.Enqueue(new Request(spec.Id, spec.PromptTokens, spec.OutputTokens));
            gpu.Wake();
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

    public void Finished(GpuWorker gpu) => nodeOf[gpu].Outstanding--;

    private long KvBytes(Request request) => request.ComputedTokens * run.Config.Model.KvBytesPerToken;

    /// <summary>A prefill GPU finished a request's prefill: send it on to a paired decode GPU.</summary>
    public void HandOff(Request request, GpuWorker prefill)
    {
        var node = nodeOf[prefill];
        var decode = LeastLoaded(node.DecodesOf[prefill]);
        if (run.Config.Deployment.Handoff == KvHandoff.Peer)
        {
            kvHome[request] = prefill;
            decode.Policy.EnqueuePrefilled(request);
            decode.Wake();
        }
        else sim.Process(ToHostPool(request, prefill, decode, node));
    }

    private IEnumerable<SimEvent> ToHostPool(Request request, GpuWorker prefill, GpuWorker decode, Node node)
    {
        foreach (var step in CopyToHost(request, prefill, node, "gpu_to_host")) yield return step;
        prefill.Policy.Release(request);
        prefill.Wake();
        decode.Policy.EnqueuePrefilled(request);
        decode.Wake();
    }

    /// <summary>Takes room in the node's host pool and copies the request's KV there from <paramref name="gpu"/>; its KV then lives in the pool.</summary>
    private IEnumerable<SimEvent> CopyToHost(Request request, GpuWorker gpu, Node node, string kind)
    {
        var bytes = KvBytes(request);
        var asked = sim.Now;
        yield return node.Pool.Put(bytes);
        metrics.PoolChanged(sim.Now, node.Index, node.Pool.Level);
        yield return backend.Move(new KvMove(request, bytes, KvMoveKind.GpuToHost, gpu, null, node.Index, node.Links.GpuToHost(gpu.Record.LocalIndex)));
        metrics.Transfer(new TransferRecord(request.Id, kind, gpu.Name, node.HostName, bytes, asked, sim.Now));
        kvHome[request] = null;
    }

    /// <summary>A policy preempted a request by swap: copy its KV into the node's host pool.</summary>
    public void SwapOut(Request request, GpuWorker gpu) => sim.Process(SwapOutProcess(request, gpu));

    private IEnumerable<SimEvent> SwapOutProcess(Request request, GpuWorker gpu)
    {
        foreach (var step in CopyToHost(request, gpu, nodeOf[gpu], "swap_out")) yield return step;
        gpu.Policy.SwappedOut(request);
        gpu.Wake();
    }

    /// <summary>A decode GPU reserved blocks for a request: copy its KV in from where it is.</summary>
    public void Pull(KvPull pull, GpuWorker decode) => sim.Process(PullIn(pull, decode));

    private IEnumerable<SimEvent> PullIn(KvPull pull, GpuWorker decode)
    {
        var request = pull.Request;
        var node = nodeOf[decode];
        if (!kvHome.Remove(request, out var from))
            throw new InvalidOperationException($"Request {request.Id} was pulled but its KV is nowhere.");
        var bytes = KvBytes(request);
        var asked = sim.Now;
        var local = decode.Record.LocalIndex;
        if (from is null && pull.HoldOnPrefillGpu && node.PrefillOf.TryGetValue(decode, out var buffer))
        {
            foreach (var step in HoldOnPrefillGpu(request, bytes, buffer, decode, node)) yield return step;
            yield break;
        }
        if (from is null && pull.StageOnPrefillGpu && node.PrefillOf.TryGetValue(decode, out var stage))
        {
            // GPU-prefetch-for-GPU: host -> paired prefill GPU over its PCIe, then NVLink to the decode GPU.
            yield return backend.Move(new KvMove(request, bytes, KvMoveKind.HostToStaging, null, stage, node.Index, node.Links.HostToGpu(stage.Record.LocalIndex)));
            metrics.Transfer(new TransferRecord(request.Id, "host_to_gpu", node.HostName, stage.Name, bytes, asked, sim.Now));
            var hop = sim.Now;
            yield return backend.Move(new KvMove(request, bytes, KvMoveKind.StagingToGpu, stage, decode, node.Index, node.Links.GpuToGpu(stage.Record.LocalIndex, local)));
            metrics.Transfer(new TransferRecord(request.Id, "gpu_to_gpu", stage.Name, decode.Name, bytes, hop, sim.Now));
        }
        else
        {
            yield return backend.Move(from is null
                ? new KvMove(request, bytes, KvMoveKind.HostToGpu, null, decode, node.Index, node.Links.HostToGpu(local))
                : new KvMove(request, bytes, KvMoveKind.GpuToGpu, from, decode, node.Index, node.Links.GpuToGpu(from.Record.LocalIndex, local)));
            metrics.Transfer(new TransferRecord(request.Id, from is null ? "host_to_gpu" : "gpu_to_gpu",
                from is null ? node.HostName : from.Name, decode.Name, bytes, asked, sim.Now));
        }
        if (from is null)
        {
            yield return node.Pool.Get(bytes);
            metrics.PoolChanged(sim.Now, node.Index, node.Pool.Level);
        }
        else
        {
            from.Policy.Release(request);
            from.Wake();
        }
        decode.Policy.KvArrived(request);
        decode.Wake();
    }

    /// <summary>
    /// AlignedServe's candidate batch buffer in the prefill GPU's HBM: host -> paired prefill GPU over its PCIe, into blocks the
    /// decode GPU's policy reserved there; the KV then lives on that GPU until the policy pulls it over NVLink (freeing them).
    /// </summary>
    private IEnumerable<SimEvent> HoldOnPrefillGpu(Request request, long bytes, GpuWorker buffer, GpuWorker decode, Node node)
    {
        var asked = sim.Now;
        yield return backend.Move(new KvMove(request, bytes, KvMoveKind.HostToGpu, null, buffer, node.Index, node.Links.HostToGpu(buffer.Record.LocalIndex)));
        metrics.Transfer(new TransferRecord(request.Id, "host_to_gpu", node.HostName, buffer.Name, bytes, asked, sim.Now));
        yield return node.Pool.Get(bytes);
        metrics.PoolChanged(sim.Now, node.Index, node.Pool.Level);
        kvHome[request] = buffer;
        decode.Policy.KvArrived(request);
        decode.Wake();
    }

    /// <summary>What every GPU holds, for diagnosing a run that stopped early.</summary>
    public string Describe() => string.Join("; ", nodes.SelectMany(n => n.Gpus).Select(g =>
        $"gpu{g.Record.Gpu} {g.Role}: waiting {g.Policy.WaitingCount}, running {g.Policy.RunningCount}, arriving {g.Policy.ArrivingCount}, free blocks {g.Blocks.FreeBlocks}/{g.Blocks.TotalBlocks} ({g.Policy})"))
        + $"; KV away from home: {kvHome.Count}";

    /// <summary>Every link of every node, for utilisation.</summary>
    public IEnumerable<Link> Links => nodes.SelectMany(n => n.Links.All);
}
