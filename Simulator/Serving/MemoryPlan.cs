using Simulator.Config;
using Simulator.Specs;
using Simulator.Workload;

namespace Simulator.Serving;

/// <summary>
/// How one GPU's HBM is split: weights and the activation reserve first, the rest into KV
/// blocks. Invariant: weights + reserve + blocks * block bytes &lt;= capacity * utilization.
/// </summary>
public sealed record MemoryPlan(long UsableBytes, long WeightBytes, long ReserveBytes, long BlockBytes, int KvBlocks, int BlockSizeTokens)
{
    /// <summary>The plan for a model on a GPU; <c>engine.kv_blocks</c>, when set, fixes the block count (the weights must still fit).</summary>
    public static MemoryPlan For(ModelSpec model, GpuSpec gpu, EngineConfig engine)
    {
        var usable = (long)(gpu.HbmCapacityBytes * engine.GpuMemoryUtilization);
        var reserve = (long)(engine.ActivationReserveGib * Units.GiB);
        var blockBytes = model.KvBytesPerToken * engine.BlockSizeTokens;
        var free = usable - model.WeightBytes - reserve;
        if (free < blockBytes)
            throw new ConfigException(null, "model",
                $"{model.Name} does not fit on one {gpu.Name}: weights {Gib(model.WeightBytes)} GiB + activation reserve {Gib(reserve)} GiB " +
                $"+ one KV block {Gib(blockBytes)} GiB exceed the {Gib(usable)} GiB usable ({engine.GpuMemoryUtilization:0.##} of HBM) " +
                $"by {Gib(blockBytes - free)} GiB (lower engine.activation_reserve_gib, raise engine.gpu_memory_utilization, or use a larger GPU)");
        var blocks = engine.KvBlocks ?? (int)Math.Min(int.MaxValue, free / blockBytes);
        return new MemoryPlan(usable, model.WeightBytes, reserve, blockBytes, blocks, engine.BlockSizeTokens);
    }

    public long KvCapacityTokens => (long)KvBlocks * BlockSizeTokens;

    /// <summary>Fails when some request could not hold its KV even alone on the GPU.</summary>
    public void CheckFits(IReadOnlyList<RequestSpec> requests, string workloadField)
    {
        foreach (var r in requests)
        {
            var need = r.TotalTokens - 1;
            if (need <= KvCapacityTokens) continue;
            throw new ConfigException(null, workloadField,
                $"request {r.Id} needs KV for {need} tokens ({r.PromptTokens} prompt + {r.OutputTokens} output - 1) but the GPU holds " +
                $"{KvCapacityTokens} ({KvBlocks} blocks of {BlockSizeTokens}): {need - KvCapacityTokens} tokens too many");
        }
    }

    private static string Gib(long bytes) => (bytes / Units.GiB).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
}
