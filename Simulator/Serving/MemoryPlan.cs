using Simulator.Config;
using Simulator.Specs;
using Simulator.Workload;

namespace Simulator.Serving;

/// <summary>
/// How each GPU of an instance splits its HBM: its share of the weights and the activation reserve first, the rest into KV
/// blocks. Invariant, per GPU: weights + reserve + blocks * block bytes &lt;= capacity * utilization. With tensor parallelism
/// (<see cref="Tp"/> GPUs) every GPU holds its shard of every block (<see cref="ModelSpec.Shard"/>: its KV heads), so the
/// instance has as many blocks as one GPU, each of the block size in tokens; byte figures are per GPU.
/// </summary>
public sealed record MemoryPlan(long UsableBytes, long WeightBytes, long ReserveBytes, long BlockBytes, int KvBlocks, int BlockSizeTokens, int Tp = 1)
{
    /// <summary>
    /// The plan for a model on an instance of <paramref name="tp"/> GPUs; <c>engine.kv_blocks</c>, when set, fixes the block count
    /// (the weights must still fit).
    /// </summary>
    public static MemoryPlan For(ModelSpec model, GpuSpec gpu, EngineConfig engine, int tp = 1)
    {
        var shard = model.Shard(tp);
        var usable = (long)(gpu.HbmCapacityBytes * engine.GpuMemoryUtilization);
        var reserve = (long)(engine.ActivationReserveGib * Units.GiB);
        var blockBytes = shard.KvBytesPerToken * engine.BlockSizeTokens;
        var free = usable - shard.WeightBytes - reserve;
        var where = tp == 1 ? $"one {gpu.Name}" : $"{tp} x {gpu.Name} (tensor parallel, per GPU)";
        if (free < blockBytes)
            throw new ConfigException(null, "model",
                $"{model.Name} does not fit on {where}: weights {Gib(shard.WeightBytes)} GiB + activation reserve {Gib(reserve)} GiB " +
                $"+ one KV block {Gib(blockBytes)} GiB exceed the {Gib(usable)} GiB usable ({engine.GpuMemoryUtilization:0.##} of HBM) " +
                $"by {Gib(blockBytes - free)} GiB (lower engine.activation_reserve_gib, raise engine.gpu_memory_utilization, " +
                $"{(tp == 1 ? "or use a larger GPU or tensor parallelism (deployment.gpus[].tp)" : "or use a larger GPU or more GPUs per instance")})");
        var blocks = engine.KvBlocks ?? (int)Math.Min(int.MaxValue, free / blockBytes);
        return new MemoryPlan(usable, shard.WeightBytes, reserve, blockBytes, blocks, engine.BlockSizeTokens, tp);
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
                $"request {r.Id} needs KV for {need} tokens ({r.PromptTokens} prompt + {r.OutputTokens} output - 1) but {(Tp == 1 ? "the GPU holds" : $"an instance of {Tp} GPUs holds")} " +
                $"{KvCapacityTokens} ({KvBlocks} blocks of {BlockSizeTokens}): {need - KvCapacityTokens} tokens too many");
        }
    }

    private static string Gib(long bytes) => (bytes / Units.GiB).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
}
