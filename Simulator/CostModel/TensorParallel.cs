using Simulator.Specs;

namespace Simulator.CostModel;

/// <summary>
/// The collectives of a Megatron-style tensor-parallel instance of <see cref="Gpus"/> GPUs (Shoeybi et al., Megatron-LM, 2019,
/// section 3; vLLM's <c>RowParallelLinear</c> and <c>VocabParallelEmbedding</c>): per layer, one all-reduce of the activations after the
/// attention output projection and one after the MLP's down projection; one after the vocabulary-parallel embedding; and a gather of
/// the sampled rows' logits from the vocabulary-parallel LM head. Each all-reduce moves the pass's tokens x hidden activations in
/// the model's dtype and costs the node's measured fit (<see cref="AllReduceFit"/>): latency + 2 (n - 1) / n * bytes / bus bandwidth.
/// The gather is priced from the same fit with an all-gather's (n - 1) / n traffic (an assumption: no gather measurements are used).
/// The collectives do not overlap the GEMMs (each needs the previous GEMM's output and the next GEMM needs its result).
/// </summary>
public sealed class TensorParallel
{
    private readonly double latencyNs;
    private readonly double busBytesPerNs;
    private readonly long activationBytesPerToken;
    private readonly long logitBytesPerRow;
    private readonly int allReducesPerPass;

    /// <param name="model">The whole model (not a shard).</param>
    public TensorParallel(ModelSpec model, AllReduceFit fit)
    {
        Gpus = fit.Gpus;
        latencyNs = fit.LatencyUs * Units.NsPerMicrosecond;
        busBytesPerNs = fit.BusBandwidthGbPerS; // 1 GB/s = 1 byte/ns
        activationBytesPerToken = (long)model.Hidden * model.DtypeBytes;
        logitBytesPerRow = (long)model.Shard(Gpus).Vocab * Gpus * model.DtypeBytes;
        allReducesPerPass = 2 * model.Layers + 1;
    }

    public int Gpus { get; }

    /// <summary>One all-reduce of <paramref name="bytes"/> among the instance's GPUs, ns.</summary>
    public double AllReduceNs(double bytes) => latencyNs + 2.0 * (Gpus - 1) / Gpus * bytes / busBytesPerNs;

    /// <summary>One all-gather that leaves <paramref name="bytes"/> on every GPU, ns (the all-reduce fit with an all-gather's traffic).</summary>
    public double AllGatherNs(double bytes) => latencyNs + (double)(Gpus - 1) / Gpus * bytes / busBytesPerNs;

    /// <summary>The collectives of a pass of <paramref name="tokens"/> new tokens over <paramref name="entries"/> requests (each samples one row), ns.</summary>
    public double PassNs(double tokens, int entries) =>
        allReducesPerPass * AllReduceNs(tokens * activationBytesPerToken) + AllGatherNs((double)entries * logitBytesPerRow);
}
