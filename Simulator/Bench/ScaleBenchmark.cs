namespace Simulator.Bench;

/// <summary>
/// Per-iteration cost as the decode batch grows: N requests arrive together (16-token prompts)
/// on one colocated GPU with room for all of them (engine.kv_blocks), so almost every pass decodes a
/// batch of N. Flat iterations/s across N would mean per-iteration work independent of the batch;
/// bytes/iteration shows allocation per pass. Both are marginal figures: the difference between a
/// run of 400 and one of 10,000 output tokens over the difference in passes, so setting up the N
/// requests (objects, their prefill) is not counted per pass. Iteration records are off (they are
/// 104 bytes of kept data per pass when on); what remains per pass is the 8-byte pass time kept for
/// exact percentiles, its copy when the summary is computed, and each request's block table being
/// sized for its longer output (4 bytes per 16 tokens).
/// </summary>
public static class ScaleBenchmark
{
    /// <param name="MarginalIterations">Passes the longer run made beyond the shorter one.</param>
    /// <param name="MarginalWallS">Wall time those passes took.</param>
    /// <param name="MarginalBytes">Bytes allocated by those passes.</param>
    public sealed record Figure(int Batch, int MarginalIterations, double MarginalWallS, long MarginalBytes)
    {
        public double IterationsPerS => MarginalIterations / MarginalWallS;

        public double BytesPerIteration => MarginalBytes / (double)MarginalIterations;

        public double NsPerRequestPass => MarginalWallS * 1e9 / MarginalIterations / Batch;
    }

    private const int ShorterOutput = 400;

    /// <summary>Output tokens of the longer run; both runs get KV blocks for it, so the marginal figures count no setup.</summary>
    private const int LongerOutput = 10_000;

    /// <param name="lazy">Standing batches on (<c>engine.lazy_decode</c>); off measures the reference path.</param>
    public static Figure Measure(int batch, bool lazy = true)
    {
        var shorter = Run(batch, ShorterOutput, lazy);
        var longer = Run(batch, LongerOutput, lazy);
        return new Figure(batch, longer.Iterations - shorter.Iterations, longer.WallS - shorter.WallS, longer.AllocatedBytes - shorter.AllocatedBytes);
    }

    private static ServingBenchmark.Figure Run(int batch, int outputTokens, bool lazy)
    {
        var prepared = ServingBenchmark.Prepare($$"""
            name: scale-{{batch}}
            model: opt-6.7b
            node: dgx-h100
            policy: { name: vllm, max_num_seqs: {{batch}}, max_num_batched_tokens: {{Math.Max(8192, batch * 16)}} }
            workload:
              kind: synthetic
              num_requests: {{batch}}
              arrival: { process: burst }
              prompt: { dist: fixed, value: 16 }
              output: { dist: fixed, value: {{outputTokens}} }
            engine: { block_size_tokens: 16, kv_blocks: {{batch * ((16 + LongerOutput) / 16 + 2)}}, lazy_decode: {{(lazy ? "true" : "false")}} }
            metrics: { iteration_records: false }
            """);
        return ServingBenchmark.Measure(prepared);
    }
}
