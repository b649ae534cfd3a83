using Simulator.Config;
using Simulator.CostModel;
using Simulator.Runs;
using Simulator.Specs;

namespace Simulator.Tests.Serving;

/// <summary>vLLM's custom all-reduce: its closed form below the 8 MiB buffer and NCCL's above, vLLM's topology rule, which engines run it, and check.</summary>
public sealed class CustomAllReduceTests
{
    private static ExperimentConfig Load(params string[] sets) => ExperimentLoader.Load(RepoPaths.Quickstart, sets);

    [Fact]
    public void An_All_Reduce_Should_Take_The_Custom_Kernels_Fit_Below_Its_Buffer_And_Nccls_From_It()
    {
        // Given the H100 node's NCCL and custom-kernel fits for 4 GPUs
        var config = Load("model=llama-3.1-70b");
        var (nccl, custom) = (config.Node.AllReduceFor(4)!, config.Node.CustomAllReduceFor(4)!);
        var tp = new TensorParallel(config.Model, nccl, custom);

        // Then below 8 MiB an all-reduce costs the custom fit's closed form, from 8 MiB NCCL's
        static double Closed(AllReduceFit fit, double bytes) => fit.LatencyUs * 1000 + 2.0 * 3 / 4 * bytes / fit.BusBandwidthGbPerS;
        foreach (var bytes in new[] { 0.0, 131_072, 4 << 20, (8 << 20) - 16 })
            Assert.Equal(Closed(custom, bytes), tp.AllReduceNs(bytes), 6);
        foreach (var bytes in new[] { 8.0 * (1 << 20), 64 << 20 })
            Assert.Equal(Closed(nccl, bytes), tp.AllReduceNs(bytes), 6);
        // and the logits gather stays NCCL's
        Assert.Equal(new TensorParallel(config.Model, nccl).AllGatherNs(1 << 20), tp.AllGatherNs(1 << 20), 6);
        // and a decode step's 128 KiB message costs under half of NCCL's
        Assert.True(tp.AllReduceNs(131_072) < 0.5 * Closed(nccl, 131_072));
        Assert.True(tp.UsesCustomAllReduce);
    }

    [Fact]
    public void The_Custom_Kernel_Should_Run_Only_On_Two_Gpus_Or_Fully_Nvlink_Connected_Ones()
    {
        var node = Load().Node;
        Assert.NotNull(node.CustomAllReduceFor(4));
        var pairwise = node with { Nvlink = node.Nvlink with { Topology = NvlinkTopology.Pairwise } };
        Assert.NotNull(pairwise.CustomAllReduceFor(2));
        Assert.Null(pairwise.CustomAllReduceFor(4));
        Assert.Null(node.CustomAllReduceFor(3));
    }

    private static RunResult Run(string policy, string allReduce) => SingleRun.Execute(PreparedRun.From(Load("model=llama-3.1-70b", $"policy={policy}",
        "deployment.gpus=[{role: colocated, count: 1, tp: 4}]", "workload.num_requests=40", $"cost_model.all_reduce={allReduce}")));

    [Fact]
    public void Auto_Should_Run_The_Engines_Own_All_Reduce()
    {
        // vllm runs the custom kernel: auto is vllm_custom, and faster than nccl
        var vllm = Run("vllm", "auto");
        Assert.Equal(Run("vllm", "vllm_custom").Metrics.IterationNs, vllm.Metrics.IterationNs);
        var vllmNccl = Run("vllm", "nccl");
        Assert.True(vllm.Metrics.IterationNs.Sum() < vllmNccl.Metrics.IterationNs.Sum());
        // sarathi reduces through torch.distributed: auto is nccl
        Assert.Equal(Run("sarathi", "nccl").Metrics.IterationNs, Run("sarathi", "auto").Metrics.IterationNs);
        Assert.NotEqual(Run("sarathi", "vllm_custom").Metrics.IterationNs, Run("sarathi", "auto").Metrics.IterationNs);
    }

    [Fact]
    public void Check_Should_Refuse_The_Custom_Kernel_Where_The_Node_Cannot_Run_It()
    {
        var error = Assert.Throws<ConfigException>(() => Load("model=llama-3.1-70b", "deployment.gpus=[{role: colocated, count: 1, tp: 4}]",
            "node.nvlink.topology=pairwise", "cost_model.all_reduce=vllm_custom"));
        Assert.Contains("cost_model.all_reduce", error.Message);
        Assert.Contains("NVLink topology pairwise", error.Message);
        Assert.Contains("every pair is NVLink-connected", error.Message);
        // and where the node has no fit for the GPU count
        var noFit = Assert.Throws<ConfigException>(() => Load("model=llama-3.1-70b", "deployment.gpus=[{role: colocated, count: 1, tp: 4}]",
            "node.custom_all_reduce=[{gpus: 2, latency_us: 9, bus_bandwidth_gb_per_s: 200}]", "cost_model.all_reduce=vllm_custom"));
        Assert.Contains("no custom_all_reduce fit for 4 GPUs", noFit.Message);
        // auto falls back to NCCL there, as vLLM does
        Load("model=llama-3.1-70b", "deployment.gpus=[{role: colocated, count: 1, tp: 4}]", "node.nvlink.topology=pairwise");
    }
}
