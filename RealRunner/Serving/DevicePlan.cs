using RealRunner.Device;
using Simulator.Config;
using Simulator.Runs;
using Simulator.Serving;
using Simulator.Specs;

namespace RealRunner.Serving;

/// <summary>How an experiment is fitted to the device it runs on: KV blocks per logical GPU and the host pool.</summary>
public sealed record DevicePlan(int Gpus, long HostPoolBytes, string BlocksReason)
{
    /// <summary>Share of device memory the run may use (CUDA).</summary>
    private const double DeviceShare = 0.85;

    /// <summary>Memory the CPU accelerator's "device" may use: it is host memory.</summary>
    private const long CpuBudgetBytes = 256L << 20;

    /// <summary>
    /// The experiment with engine.kv_blocks set to what the device holds (at most the experiment's own plan) and
    /// deployment.host_pool_gib to the page-locked pool, so a simulator replay of its resolved config uses the same memory.
    /// </summary>
    public static (PreparedRun Run, DevicePlan Plan) Prepare(ExperimentConfig config, DeviceSession session, int? kvBlocks, double? hostPoolGib)
    {
        var gpus = config.Deployment.Roles().Count * config.Deployment.Nodes;
        if (config.Deployment.TpDegrees()[^1] > 1)
        {
            var needed = config.Deployment.GpusPerNode() * config.Deployment.Nodes;
            throw new DeviceException(session.Accelerators.Count < needed
                ? $"deployment.gpus: tensor-parallel instances (tp {config.Deployment.TpDegrees()[^1]}) need {needed} GPUs in the device session; it has {session.Accelerators.Count}"
                : "deployment.gpus: RealRunner runs no sharded kernels or collectives: each of its logical GPUs runs the whole model; set tp: 1 on the device " +
                  "(the simulator prices tensor-parallel instances)");
        }
        var ram = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        var poolBytes = (long)((hostPoolGib ?? Math.Min(config.Deployment.HostPoolGib ?? config.Node.HostMemory.CapacityGib, ram / 4.0 / Units.GiB)) * Units.GiB);
        config = config with { Deployment = config.Deployment with { HostPoolGib = poolBytes / (double)Units.GiB } };
        var planned = MemoryPlan.For(config.Model, config.Node.Gpu, config.Engine).KvBlocks;
        var model = config.Model;
        var blockBytes = model.KvBytesPerToken * config.Engine.BlockSizeTokens;
        var perDevice = (gpus + session.Accelerators.Count - 1) / session.Accelerators.Count;
        var budget = session.IsCuda ? (long)(session.Primary.MemorySize * DeviceShare) : Math.Min(CpuBudgetBytes, ram / 4);
        // One layer's weights and the LM head, plus activations for a pass of up to 8,192 tokens.
        var fixedBytes = model.LayerWeightBytes + model.LmHeadWeightBytes
                         + 8192L * 4 * (3L * model.Hidden + (model.Heads + 2 * model.KvHeads) * model.HeadDim + 2L * model.Ffn);
        var fits = (budget - fixedBytes) / perDevice / blockBytes;
        int blocks;
        string reason;
        if (kvBlocks is { } given)
        {
            blocks = given;
            reason = "--kv-blocks";
        }
        else if (config.Engine.KvBlocks is { } fixedBlocks)
        {
            blocks = fixedBlocks;
            reason = "engine.kv_blocks";
        }
        else
        {
            blocks = (int)Math.Min(planned, fits);
            reason = blocks == planned
                ? $"the experiment's memory plan on {config.Node.Gpu.Name}"
                : $"what {perDevice} logical GPU(s) per device fit in {budget / (double)Units.GiB:F1} GiB of {(session.IsCuda ? "device" : "CPU-accelerator")} memory (the plan on {config.Node.Gpu.Name} has {planned})";
        }
        if (blocks < 1)
            throw new DeviceException($"{model.Name} leaves no room for KV blocks on {session.Info.Name}: one block is {blockBytes / 1048576.0:F2} MiB, {perDevice} logical GPU(s) share {budget / (double)Units.GiB:F1} GiB; use a smaller model or fewer GPUs");
        config = config with { Engine = config.Engine with { KvBlocks = blocks } };
        var run = PreparedRun.From(config);
        return (run, new DevicePlan(gpus, poolBytes, reason));
    }
}
