namespace Simulator.Bench;

/// <summary>
/// Per-iteration cost as the decode batch grows: N requests arrive together (16-token prompts,
/// 400 output tokens) on one colocated GPU with room for all of them (engine.kv_blocks), so almost
/// every pass decodes a batch of N. Flat iterations/s across N would mean per-iteration work
/// independent of the batch; bytes/iteration shows allocation per pass.
/// </summary>
public static class ScaleBenchmark
{
    public sealed record Figure(int Batch, int Iterations, double WallS, long AllocatedBytes)
    {
        public double IterationsPerS => Iterations / WallS;

        public double BytesPerIteration => AllocatedBytes / (double)Iterations;
    }

    public static Figure Measure(int batch, int outputTokens = 400)
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
            engine: { block_size_tokens: 16, kv_blocks: {{batch * ((16 + outputTokens) / 16 + 2)}} }
            """);
        var f = ServingBenchmark.Measure(prepared);
        return new Figure(batch, f.Iterations, f.WallS, f.AllocatedBytes);
    }
}
