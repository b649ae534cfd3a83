namespace Simulator.Tests;

/// <summary>Locations in the repository, found from the test binary's folder.</summary>
internal static class RepoPaths
{
    /// <summary>The smallest valid experiment (10 lines; tests edit it to make it invalid in one place).</summary>
    public const string MinimalExperiment = """
        name: t
        model: opt-6.7b
        node: dgx-h100
        policy: vllm
        workload:
          kind: synthetic
          num_requests: 10
          arrival: { process: poisson, rate_per_s: 5 }
          prompt: { dist: fixed, value: 100 }
          output: { dist: fixed, value: 10 }
        """;

    public static string Root { get; } = FindRoot();

    public static string Configs => Path.Combine(Root, "configs");

    public static string Quickstart => Path.Combine(Configs, "quickstart.yaml");

    public static string Golden(string name) => Path.Combine(Root, "tests", "Simulator.Tests", "Golden", name);

    /// <summary>../shared/traces beside the repository, or null when absent (tests then skip).</summary>
    public static string? SharedTraces =>
        Path.Combine(Root, "..", "shared", "traces") is var dir && Directory.Exists(dir) ? dir : null;

    private static string FindRoot()
    {
        for (var dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
            if (File.Exists(Path.Combine(dir, "Sim.sln"))) return dir;
        throw new InvalidOperationException("Sim.sln not found above the test binaries.");
    }
}
