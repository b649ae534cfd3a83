using CsCheck;
using Policies.Vllm;
using Simulator.Config;
using Simulator.CostModel;
using Simulator.Runs;
using Simulator.Serving;
using Simulator.Workload;

namespace Simulator.Tests.Serving;

/// <summary>Invariants of a serving run over many random small workloads and memory sizes.</summary>
public sealed class ServingInvariantTests
{
    private static readonly ExperimentConfig Base = ExperimentLoader.Load(RepoPaths.Quickstart, ["model.layers=2"]);

    private static readonly Gen<(int Blocks, bool Chunked, int Budget, RequestSpec[] Requests)> Cases =
        Gen.Select(Gen.Int[30, 120], Gen.Bool, Gen.Int[64, 2048], Gen.Int[1, 60]).SelectMany(t =>
            Gen.Select(Gen.Long[0, 2_000_000_000], Gen.Int[1, 400], Gen.Int[1, 80]).Array[t.Item4].Select(raw =>
                (t.Item1, t.Item2, t.Item3, raw.OrderBy(r => r.Item1)
                    .Select((r, i) => new RequestSpec(i, r.Item1, r.Item2, r.Item3)).ToArray())));

    [Fact]
    public void Every_Request_Should_Finish_Once_With_Its_Tokens_Within_Memory_And_In_Causal_Order()
    {
        Cases.Sample(c =>
        {
            // Given a GPU with only c.Blocks blocks of 16 tokens (480..1920 tokens: preemption is common)
            var config = Base with { Policy = new PolicyConfig("vllm", new VllmOptions(MaxNumBatchedTokens: c.Budget, ChunkedPrefill: c.Chunked)) };
            var memory = new MemoryPlan(0, 0, 0, 0, c.Blocks, 16);

            // When
            var result = SingleRun.Execute(new PreparedRun(config, c.Requests, memory, new WorkloadStats("test", c.Requests.Length, c.Requests.Length, 0, 0, 0)));

            // Then
            var m = result.Metrics;
            Assert.Equal(c.Requests.Length, m.Finished);
            foreach (var r in c.Requests)
            {
                Assert.Equal(r.OutputTokens, m.TokensEmitted[r.Id]);
                Assert.True(m.FirstTokenNs[r.Id] > r.ArrivalNs, "first token after arrival");
                Assert.True(m.FinishNs[r.Id] >= m.FirstTokenNs[r.Id], "finish after first token");
            }
            var iterations = m.Iterations;
            for (var i = 0; i < iterations.Count; i++)
            {
                Assert.InRange(iterations[i].KvBlocksUsed, 0, c.Blocks);
                Assert.True(iterations[i].DurationNs > 0);
                if (i > 0) Assert.True(iterations[i].StartNs >= iterations[i - 1].StartNs + iterations[i - 1].DurationNs, "one pass at a time");
                if (c.Chunked) Assert.True(iterations[i].NewTokens <= c.Budget, "token budget respected");
            }
            Assert.Equal(iterations.Sum(it => it.DurationNs), m.BusyNs);
        }, iter: 150);
    }
}
