using Policies.Core;
using Simulator.Config;
using Simulator.Runs;
using Simulator.Serving;
using Simulator.Specs;
using Simulator.Workload;

namespace Simulator.Tests.Serving;

/// <summary>Closed-form timings of single requests through disaggregated deployments.</summary>
public sealed class DeploymentTests
{
    private static readonly ExperimentConfig Base = ExperimentLoader.Load(RepoPaths.Quickstart, ["model=opt-13b"]);

    private static RunResult RunOne(KvHandoff handoff, int prompt = 1000, int output = 5)
    {
        var config = Base with
        {
            Deployment = new DeploymentConfig(Gpus: [new GpuGroup(GpuRole.Prefill, 1), new GpuGroup(GpuRole.Decode, 1)], Handoff: handoff),
        };
        RequestSpec[] requests = [new(0, 1_000_000, prompt, output)];
        var prepared = new PreparedRun(config, requests, MemoryPlan.For(config.Model, config.Node.Gpu, config.Engine), WorkloadStats.Given("t", 1));
        return SingleRun.Execute(prepared);
    }

    [Fact]
    public void Peer_Handoff_Should_Start_Decoding_After_One_NvLink_Copy()
    {
        var result = RunOne(KvHandoff.Peer);
        var node = Base.Node;

        var prefill = Assert.Single(result.Metrics.Iterations, it => it.Gpu == 0);
        var firstDecode = result.Metrics.Iterations.First(it => it.Gpu == 1);
        var transfer = Assert.Single(result.Metrics.Transfers);

        // 1,000 tokens of OPT-13B KV (800 KiB each) at 395 GB/s after 3 us of latency.
        var bytes = 1000L * Base.Model.KvBytesPerToken;
        var copyNs = (long)(node.Nvlink.LatencyUs * 1000) + (long)Math.Ceiling(bytes / node.Nvlink.BandwidthGbPerS);
        Assert.Equal(bytes, transfer.Bytes);
        Assert.Equal(prefill.StartNs + prefill.DurationNs, transfer.StartNs);
        Assert.InRange(transfer.EndNs - transfer.StartNs, copyNs - 1, copyNs + 1);
        Assert.Equal(transfer.EndNs, firstDecode.StartNs);
        Assert.Equal(4, result.Metrics.Iterations.Count(it => it.Gpu == 1));
        Assert.Equal(prefill.StartNs + prefill.DurationNs, result.Metrics.FirstTokenNs[0]);
    }

    [Fact]
    public void Host_Pool_Handoff_Should_Cross_Pcie_Twice_And_Empty_The_Pool()
    {
        var result = RunOne(KvHandoff.HostPool);
        var pcie = Base.Node.Pcie;
        var bytes = 1000L * Base.Model.KvBytesPerToken;
        // Host memory (400 GB/s) is faster than PCIe (55 GB/s): each copy takes PCIe latency + bytes / 55.
        var copyNs = (long)(pcie.LatencyUs * 1000) + (long)Math.Ceiling(bytes / pcie.BandwidthGbPerS);

        Assert.Equal(["gpu_to_host", "host_to_gpu"], result.Metrics.Transfers.Select(t => t.Kind));
        Assert.All(result.Metrics.Transfers, t => Assert.InRange(t.EndNs - t.StartNs, copyNs - 1, copyNs + 1));
        Assert.Equal(bytes, result.Metrics.PoolSamples.Max(s => s.UsedBytes));
        Assert.Equal(0, result.Metrics.PoolSamples[^1].UsedBytes);
        Assert.True(result.Summary.LinkUtilisation["pcie_h2d"].Bytes > 0);
    }

    [Fact]
    public void Request_Finishing_At_Prefill_Should_Not_Be_Handed_Off()
    {
        var result = RunOne(KvHandoff.Peer, output: 1);
        Assert.Empty(result.Metrics.Transfers);
        Assert.Equal(1, result.Metrics.Finished);
    }

    [Fact]
    public void Roles_That_Cannot_Serve_Should_Be_Refused_At_Load()
    {
        var e = Assert.Throws<ConfigException>(() => ExperimentLoader.Load(RepoPaths.Quickstart, ["deployment.gpus=[{role: prefill, count: 2}]"]));
        Assert.Equal("deployment.gpus", e.FieldPath);
        var tooMany = Assert.Throws<ConfigException>(() => ExperimentLoader.Load(RepoPaths.Quickstart, ["deployment.gpus=[{role: colocated, count: 9}]"]));
        Assert.Contains("the node has 8", tooMany.Message);
        // No GPU at all would divide by zero when requests are routed.
        var none = Assert.Throws<ConfigException>(() => ExperimentLoader.Load(RepoPaths.Quickstart, ["deployment.gpus=[]"]));
        Assert.Contains("no GPUs", none.Message);
    }
}
