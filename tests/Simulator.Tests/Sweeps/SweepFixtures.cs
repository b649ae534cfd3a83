namespace Simulator.Tests.Sweeps;

/// <summary>Small sweep files for the tests.</summary>
internal static class SweepFixtures
{
    /// <summary>Everything of the base experiment but its workload.</summary>
    public const string Header = """
        name: s
        seed: 5
        model: opt-6.7b
        node: dgx-h100
        policy: vllm

        """;

    /// <summary>A base experiment of 120 requests (a few tenths of a second per run); append a sweep: section.</summary>
    public const string Base = Header + """
        workload:
          kind: synthetic
          num_requests: 120
          arrival: { process: poisson, rate_per_s: 40 }
          prompt:
            dist: mixture
            components:
              - { weight: 0.8, length: { dist: uniform, min: 50, max: 500 } }
              - { weight: 0.2, length: { dist: uniform, min: 1000, max: 3000 } }
          output: { dist: uniform, min: 10, max: 120 }

        """;

    /// <summary>3 policies x 2 short shares x 2 seeds = 12 runs, with a bar, a line and a CDF figure.</summary>
    public const string Small = Base + """
        sweep:
          grid:
            policy: [vllm, orca, sarathi]
          zip:
            short_share:
              label: [0.6, 0.9]
              workload.prompt.components.0.weight: [0.6, 0.9]
              workload.prompt.components.1.weight: [0.4, 0.1]
          seeds: 2
        figures:
          - { name: throughput, kind: lines, x: short_share, series: policy, metric: decode_throughput_tokens_per_s, baseline: vllm }
          - { name: tpot, kind: bars, x: short_share, series: policy, metric: tpot_s.p99, scale: 1000 }
          - { name: iterations, kind: cdf, series: policy, panels: short_share, source: decode_iteration_time, scale: 1000, marker: 20 }
        """;
}
