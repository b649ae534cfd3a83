using Simulator.Config;
using Simulator.Sweeps;

namespace Simulator.Tests.Sweeps;

public sealed class SweepPlanTests
{
    private static SweepPlan Load(string yaml, params string[] sets)
    {
        using var dir = new TempDir();
        return SweepPlan.Load(dir.File("sweep.yaml", yaml), sets);
    }

    private static ConfigException Fails(string yaml, params string[] sets) => Assert.Throws<ConfigException>(() => Load(yaml, sets));

    [Fact]
    public void Grid_Zip_And_Seeds_Should_Expand_To_The_Cartesian_Product_In_Order()
    {
        var plan = Load(SweepFixtures.Small);

        Assert.Equal(6, plan.Points);
        Assert.Equal(12, plan.Runs.Count);
        Assert.Equal(["policy", "short_share"], plan.Spec.Dimensions.Select(d => d.Name));
        // First dimension outermost, seeds innermost; seeds count from the file's seed.
        Assert.Equal(["vllm", "0.6"], plan.Runs[0].Coordinates);
        Assert.Equal(["vllm", "0.6"], plan.Runs[1].Coordinates);
        Assert.Equal([5L, 6L], plan.Runs.Take(2).Select(r => r.Seed));
        Assert.Equal(["vllm", "0.9"], plan.Runs[2].Coordinates);
        Assert.Equal(["orca", "0.6"], plan.Runs[4].Coordinates);
        Assert.Equal(Enumerable.Range(0, 12), plan.Runs.Select(r => r.Index));

        // The zip group set both weights of the mixture together.
        var last = plan.Runs[^1];
        Assert.Equal("sarathi", last.Config.Policy.Name);
        var mix = Assert.IsType<Simulator.Workload.MixtureLength>(((Simulator.Workload.SyntheticWorkload)last.Config.Workload).Prompt);
        Assert.Equal([0.9, 0.1], mix.Components.Select(c => c.Weight));
        Assert.Equal(6, last.Seed);
    }

    [Fact]
    public void Hash_Should_Be_Stable_And_Change_With_The_Config()
    {
        var a = Load(SweepFixtures.Small);
        var b = Load(SweepFixtures.Small);
        Assert.Equal(a.Runs.Select(r => r.Hash), b.Runs.Select(r => r.Hash));
        Assert.Equal(12, a.Runs.Select(r => r.Hash).Distinct().Count());
        Assert.All(a.Runs, r => Assert.Matches("^[0-9a-f]{16}$", r.Hash));

        var changed = Load(SweepFixtures.Small, "engine.block_size_tokens=32");
        Assert.Empty(a.Runs.Select(r => r.Hash).Intersect(changed.Runs.Select(r => r.Hash)));
        // Adding a value to a dimension keeps the runs that were there (resume after extending a sweep).
        var extended = Load(SweepFixtures.Small.Replace("policy: [vllm, orca, sarathi]", "policy: [vllm, orca, sarathi, fastgen]"));
        Assert.Subset(extended.Runs.Select(r => r.Hash).ToHashSet(), a.Runs.Select(r => r.Hash).ToHashSet());
    }

    [Fact]
    public void A_Trace_Should_Be_Hashed_By_Its_Content_Not_Its_Path()
    {
        using var dir = new TempDir();
        const string rows = "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,100,10\n2023-11-16 18:15:47.0000000,200,20\n";
        Directory.CreateDirectory(Path.Combine(dir.Path, "x"));
        Directory.CreateDirectory(Path.Combine(dir.Path, "y"));
        File.WriteAllText(Path.Combine(dir.Path, "x", "t.csv"), rows);
        File.WriteAllText(Path.Combine(dir.Path, "y", "t.csv"), rows);
        string Sweep(string folder) => SweepFixtures.Header + $"workload: {{ kind: trace, format: azure2023, path: {folder}/t.csv }}\nsweep: {{ seeds: 2 }}\n";
        var x = SweepPlan.Load(dir.File("a.yaml", Sweep("x")));
        var y = SweepPlan.Load(dir.File("b.yaml", Sweep("y")));
        Assert.Equal(x.Runs.Select(r => r.Hash), y.Runs.Select(r => r.Hash));
        File.AppendAllText(Path.Combine(dir.Path, "y", "t.csv"), "2023-11-16 18:15:48.0000000,300,30\n");
        var edited = SweepPlan.Load(dir.File("c.yaml", Sweep("y")));
        Assert.NotEqual(x.Runs[0].Hash, edited.Runs[0].Hash);
    }

    [Fact]
    public void Seed_Lists_And_Sweeping_Only_Seeds_Should_Work()
    {
        var plan = Load(SweepFixtures.Base + "sweep: { seeds: [3, 11, 40] }\n");
        Assert.Equal(1, plan.Points);
        Assert.Equal([3L, 11L, 40L], plan.Runs.Select(r => r.Seed));
        Assert.True(plan.RepeatsSeeds);
    }

    [Fact]
    public void Grid_Entries_May_Carry_Labels_And_A_Name_And_Set_Paths_Into_Catalog_Entries()
    {
        var plan = Load(SweepFixtures.Base + """
            sweep:
              grid:
                node.pcie.bandwidth_gb_per_s: { name: pcie, values: [16, 64] }
                policy: { values: [{ name: aligned }, { name: aligned, prefetch: false }], labels: [full, no-prefetch] }
              zip: {}
            """.Replace("  zip: {}\n", "") , "deployment={ gpus: [{ role: prefill, count: 4 }, { role: decode, count: 4 }], handoff: host_pool }");
        Assert.Equal(["pcie", "policy"], plan.Spec.Dimensions.Select(d => d.Name));
        Assert.Equal(["16", "no-prefetch"], plan.Runs[1].Coordinates);
        Assert.Equal(16, plan.Runs[1].Config.Node.Pcie.BandwidthGbPerS);
        Assert.Equal(64, plan.Runs[3].Config.Node.Pcie.BandwidthGbPerS);
        Assert.Equal("dgx-h100", plan.Runs[0].Config.Node.Name); // the rest of the catalog entry is kept
    }

    [Fact]
    public void A_Path_That_Does_Not_Exist_Should_Name_The_Path_And_The_Nearest_Valid_Keys()
    {
        var e = Fails(SweepFixtures.Base + "sweep:\n  grid:\n    engine.block_size_tokns: [16, 32]\n");
        Assert.Equal("engine.block_size_tokns", e.FieldPath);
        Assert.Contains("did you mean 'block_size_tokens'", e.Message);
        Assert.Contains("sweep.yaml:", e.Message);

        var index = Fails(SweepFixtures.Base + "sweep:\n  grid:\n    workload.prompt.components.5.weight: [0.1]\n");
        Assert.Contains("not an index", index.Message);
        Assert.Contains("0..1", index.Message);
    }

    [Theory]
    [InlineData("sweep:\n  gird:\n    policy: [vllm]\n", "did you mean 'grid'")]
    [InlineData("sweep:\n  zip:\n    g:\n      policy: [vllm, orca]\n      seed: [1]\n", "equally long")]
    [InlineData("sweep:\n  grid:\n    policy: [{ name: aligned }, { name: aligned, prefetch: false }]\n", "share the label 'aligned'")]
    [InlineData("sweep:\n  grid:\n    policy: []\n", "at least one value")]
    [InlineData("sweep:\n  grid:\n    policy: [vllm]\n  zip:\n    g:\n      policy: [orca]\n", "more than one dimension")]
    [InlineData("sweep:\n  grid:\n    policy: [vllm, nosuch]\n", "unknown policy")]
    [InlineData("sweep:\n  seeds: 0\n", "expected an integer in [1, 100000]")]
    [InlineData("sweep: {}\n", "at least one of grid, zip or seeds")]
    [InlineData("sweep:\n  grid:\n    policy: [vllm, orca]\nfigures:\n  - { name: f, kind: bars, x: polcy, series: policy, metric: preemptions }\n", "did you mean 'policy'")]
    [InlineData("sweep:\n  grid:\n    policy: [vllm, orca]\nfigures:\n  - { name: f, kind: bars, x: policy, series: policy, metric: throughput }\n", "not a metric of points.csv")]
    [InlineData("sweep:\n  grid:\n    policy: [vllm, orca]\n    engine.block_size_tokens: [16, 32]\nfigures:\n  - { name: f, kind: cdf, series: policy, source: ttft }\n", "dimension 'engine.block_size_tokens' takes 2 values")]
    [InlineData("sweep:\n  grid:\n    seed: [1, 2]\n", "'seed' is a column")]
    [InlineData("sweep:\n  grid:\n    policy: [vllm, orca]\nfigures:\n  - { name: f, kind: cdf, series: policy, source: ttf }\n", "ttft")]
    public void Bad_Sweeps_Should_Fail_Up_Front_With_The_Field(string section, string expected)
    {
        var e = Fails(SweepFixtures.Base + section);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Set_Should_Reach_Into_Lists_By_Index()
    {
        using var dir = new TempDir();
        var path = dir.File("e.yaml", SweepFixtures.Base);
        var config = ExperimentLoader.Load(path, ["workload.prompt.components.1.weight=0.5"]);
        var mix = (Simulator.Workload.MixtureLength)((Simulator.Workload.SyntheticWorkload)config.Workload).Prompt;
        Assert.Equal(0.5, mix.Components[1].Weight);
    }

    [Fact]
    public void Shards_Should_Partition_The_Runs_And_Follow_Slurm_Variables()
    {
        var shards = Enumerable.Range(1, 3).Select(k => new Shard(k, 3)).ToList();
        for (var i = 0; i < 20; i++) Assert.Single(shards, s => s.Contains(i));
        Assert.Equal(new Shard(2, 8), Shard.Parse("2/8"));
        Assert.Throws<ConfigException>(() => Shard.Parse("0/8"));
        Assert.Throws<ConfigException>(() => Shard.Parse("9/8"));
        Assert.Throws<ConfigException>(() => Shard.Parse("x"));

        Dictionary<string, string> env = new() { ["SLURM_ARRAY_TASK_ID"] = "4", ["SLURM_ARRAY_TASK_COUNT"] = "4", ["SLURM_ARRAY_TASK_MIN"] = "1" };
        Assert.Equal(new Shard(4, 4), Shard.FromEnvironment(env.GetValueOrDefault));
        env["SLURM_ARRAY_TASK_MIN"] = "0";
        env["SLURM_ARRAY_TASK_ID"] = "0";
        Assert.Equal(new Shard(1, 4), Shard.FromEnvironment(env.GetValueOrDefault));
        Assert.Null(Shard.FromEnvironment(_ => null));
        env["SLURM_ARRAY_TASK_ID"] = "7";
        Assert.Throws<ConfigException>(() => Shard.FromEnvironment(env.GetValueOrDefault));
    }

    [Fact]
    public void Confidence_Interval_Should_Match_Students_T()
    {
        var (mean, half) = SweepResults.MeanAndCi([1.0, 2.0, 3.0]);
        Assert.Equal(2.0, mean, 12);
        Assert.Equal(4.302652729749464 * 1.0 / Math.Sqrt(3), half, 9); // t(0.975, 2) * s / sqrt(n), s = 1
        Assert.True(double.IsNaN(SweepResults.MeanAndCi([4.0]).HalfWidth));
    }
}
