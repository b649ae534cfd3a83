using Simulator.Specs;

namespace Simulator.CostModel;

/// <summary>
/// The collectives of a Megatron-style tensor-parallel instance of <see cref="Gpus"/> GPUs (Shoeybi et al., Megatron-LM, 2019,
/// section 3; vLLM's <c>RowParallelLinear</c> and <c>VocabParallelEmbedding</c>): per layer, one all-reduce of the activations after the
/// attention output projection and one after the MLP's down projection; one after the vocabulary-parallel embedding; and a gather of
/// the sampled rows' logits from the vocabulary-parallel LM head. Each all-reduce moves the pass's tokens x hidden activations in
/// the model's dtype and costs the node's measured fit (<see cref="AllReduceFit"/>): latency + 2 (n - 1) / n * bytes / bus bandwidth,
/// NCCL's, or, for an engine that runs vLLM's custom all-reduce kernel, that kernel's fit for messages under its buffer
/// (<see cref="CustomMaxBytes"/>). The gather is priced from NCCL's fit with an all-gather's (n - 1) / n traffic (an assumption: no
/// gather measurements are used; vLLM gathers logits through torch.distributed).
/// The collectives do not overlap the GEMMs (each needs the previous GEMM's output and the next GEMM needs its result).
/// </summary>
public sealed class TensorParallel
{
    /// <summary>vLLM's custom all-reduce buffer: it takes messages under 8 MiB (<c>max_size = 8192 * 1024</c> in custom_all_reduce.py).</summary>
    public const double CustomMaxBytes = 8 * 1024 * 1024;

    private readonly double latencyNs;
    private readonly double busBytesPerNs;
    private readonly double customLatencyNs;
    private readonly double customBusBytesPerNs;
    private readonly bool custom;
    private readonly long activationBytesPerToken;
    private readonly long logitBytesPerRow;
    private readonly int allReducesPerPass;

    /// <param name="model">The whole model (not a shard).</param>
    /// <param name="fit">NCCL's all-reduce among the instance's GPUs.</param>
    /// <param name="customFit">vLLM's custom all-reduce among them, when the engine runs it (null: NCCL for every message).</param>
    public TensorParallel(ModelSpec model, AllReduceFit fit, AllReduceFit? customFit = null)
    {
        if (customFit is not null && customFit.Gpus != fit.Gpus)
            throw new ArgumentException($"The custom all-reduce fit is for {customFit.Gpus} GPUs, NCCL's for {fit.Gpus}.", nameof(customFit));
        Gpus = fit.Gpus;
        latencyNs = fit.LatencyUs * Units.NsPerMicrosecond;
        busBytesPerNs = fit.BusBandwidthGbPerS; // 1 GB/s = 1 byte/ns
        custom = customFit is not null;
        customLatencyNs = (customFit?.LatencyUs ?? 0) * Units.NsPerMicrosecond;
        customBusBytesPerNs = customFit?.BusBandwidthGbPerS ?? 1;
        activationBytesPerToken = (long)model.Hidden * model.DtypeBytes;
        logitBytesPerRow = (long)model.Shard(Gpus).Vocab * Gpus * model.DtypeBytes;
        allReducesPerPass = 2 * model.Layers + 1;
    }

    public int Gpus { get; }

    /// <summary>Whether the instance all-reduces small messages with vLLM's custom kernel.</summary>
    public bool UsesCustomAllReduce => custom;

    /// <summary>One all-reduce of <paramref name="bytes"/> among the instance's GPUs, ns.</summary>
    public double AllReduceNs(double bytes) => custom && bytes < CustomMaxBytes
        ? customLatencyNs + 2.0 * (Gpus - 1) / Gpus * bytes / customBusBytesPerNs
        : latencyNs + 2.0 * (Gpus - 1) / Gpus * bytes / busBytesPerNs;

    /// <summary>One all-gather that leaves <paramref name="bytes"/> on every GPU, ns (the all-reduce fit with an all-gather's traffic).</summary>
    public double AllGatherNs(double bytes) => latencyNs + (double)(Gpus - 1) / Gpus * bytes / busBytesPerNs;

    /// <summary>The collectives of a pass of <paramref name="tokens"/> new tokens over <paramref name="entries"/> requests (each samples one row), ns.</summary>
    public double PassNs(double tokens, int entries) =>
        allReducesPerPass * AllReduceNs(tokens * activationBytesPerToken) + AllGatherNs((double)entries * logitBytesPerRow);
}
