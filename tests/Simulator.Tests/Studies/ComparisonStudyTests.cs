using Simulator.Config;
using Simulator.Studies;

namespace Simulator.Tests.Studies;

public sealed class ComparisonStudyTests
{
    private const string Study = """
        study: comparison
        name: cmp
        model: opt-6.7b
        node: dgx-h100
        max_requests_per_run: 150
        workloads:
          - label: mix
            workload:
              kind: synthetic
              num_requests: 400
              arrival: { process: poisson, rate_per_s: 40 }
              prompt: { dist: uniform, min: 50, max: 3000 }
              output: { dist: uniform, min: 5, max: 200 }
        variants:
          - { label: v, policy: vllm, deployment: { gpus: [{ role: colocated, count: 2 }] } }
          - { label: a, policy: aligned, deployment: { gpus: [{ role: prefill, count: 1 }, { role: decode, count: 1 }], handoff: host_pool } }
        """;

    [Fact]
    public void Comparison_Should_Run_Every_Variant_On_Every_Workload_In_Order()
    {
        using var dir = new TempDir();
        var config = ExperimentLoader.Load<ComparisonConfig>(dir.File("cmp.yaml", Study));

        var rows = ComparisonStudy.Run(config);

        Assert.Equal([("mix", "v"), ("mix", "a")], rows.Select(r => (r.Workload, r.Variant)));
        Assert.All(rows, r => Assert.Equal(150, r.Summary.Finished));
        Assert.All(rows, r => Assert.True(r.Summary.DecodeThroughputTokensPerS > 0));
    }

    [Fact]
    public void A_Variant_That_Cannot_Run_Should_Be_Named_At_Load()
    {
        using var dir = new TempDir();
        var path = dir.File("cmp.yaml", Study.Replace("handoff: host_pool", "handoff: peer"));

        var e = Assert.Throws<ConfigException>(() => ExperimentLoader.Load<ComparisonConfig>(path));

        Assert.Equal("variants[1].deployment.handoff", e.FieldPath);
    }
}
