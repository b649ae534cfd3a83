using Policies.Vllm;
using Simulator.Config;
using Simulator.Specs;
using Simulator.Workload;

namespace Simulator.Tests.Config;

public sealed class ConfigLoadingTests
{
    private const string Valid = RepoPaths.MinimalExperiment;

    private static readonly Catalog Catalog = new(RepoPaths.Configs);

    private static ExperimentConfig Load(string yaml, params string[] sets)
    {
        using var dir = new TempDir();
        return ExperimentLoader.Load(dir.File("exp.yaml", yaml), sets, catalog: Catalog);
    }

    private static ConfigException Fails(string yaml, params string[] sets) =>
        Assert.Throws<ConfigException>(() => Load(yaml, sets));

    [Fact]
    public void Valid_Experiment_Should_Resolve_Catalog_Entries_And_Defaults()
    {
        var config = Load(Valid);

        Assert.Equal("opt-6.7b", config.Model.Name);
        Assert.Equal(32, config.Model.Layers);
        Assert.Equal("h100-sxm-80gb", config.Node.Gpu.Name);
        Assert.Equal(16, config.Engine.BlockSizeTokens);
        Assert.Equal(new VllmOptions(), config.Policy.Options);
        Assert.IsType<PoissonArrivals>(((SyntheticWorkload)config.Workload).Arrival);
    }

    [Fact]
    public void Unknown_Key_Should_Name_File_Line_Column_Path_And_Suggest()
    {
        var e = Fails(Valid + "\nengine:\n  blok_size_tokens: 8\n");

        Assert.Equal(12, e.Location!.Line);
        Assert.Equal(3, e.Location.Column);
        Assert.EndsWith("exp.yaml", e.Location.File);
        Assert.Equal("engine.blok_size_tokens", e.FieldPath);
        Assert.Contains("did you mean 'block_size_tokens'", e.Message);
    }

    [Fact]
    public void Wrong_Type_Should_Say_What_Was_Expected()
    {
        var e = Fails(Valid.Replace("num_requests: 10", "num_requests: ten"));
        Assert.Equal("workload.num_requests", e.FieldPath);
        Assert.Contains("expected an integer, found 'ten'", e.Message);
        Assert.Equal(7, e.Location!.Line);
    }

    [Fact]
    public void Missing_Required_Field_Should_Be_Named()
    {
        var e = Fails(Valid.Replace("  num_requests: 10\n", ""));
        Assert.Equal("workload.num_requests", e.FieldPath);
        Assert.Contains("missing required field 'num_requests'", e.Message);
    }

    [Fact]
    public void Out_Of_Range_Value_Should_Give_The_Range()
    {
        var e = Fails(Valid + "\nengine: { gpu_memory_utilization: 1.5 }\n");
        Assert.Equal("engine.gpu_memory_utilization", e.FieldPath);
        Assert.Contains("expected a value in [0.01, 1]", e.Message);
    }

    [Fact]
    public void Seed_That_Is_Not_An_Integer_Should_Fail()
    {
        var e = Fails(Valid + "\nseed: 1.5\n");
        Assert.Equal("seed", e.FieldPath);
        Assert.Contains("expected an integer", e.Message);
    }

    [Fact]
    public void Unknown_Model_Should_List_Valid_Names()
    {
        var e = Fails(Valid.Replace("model: opt-6.7b", "model: opt-7b"));
        Assert.Equal("model", e.FieldPath);
        Assert.Contains("opt-13b", e.Message);
        Assert.Contains("llama-3.1-70b", e.Message);
        Assert.Equal(2, e.Location!.Line);
    }

    [Fact]
    public void Unknown_Policy_Should_List_Valid_Policies()
    {
        var e = Fails(Valid.Replace("policy: vllm", "policy: { name: vlm }"));
        Assert.Contains("unknown policy 'vlm' (did you mean 'vllm'?)", e.Message);
    }

    [Fact]
    public void Unknown_Policy_Option_Should_List_The_Policy_Options()
    {
        var e = Fails(Valid.Replace("policy: vllm", "policy: { name: vllm, max_seqs: 3 }"));
        Assert.Equal("policy.max_seqs", e.FieldPath);
        Assert.Contains("max_num_seqs", e.Message);
    }

    [Fact]
    public void Unknown_Distribution_Should_List_The_Kinds()
    {
        var e = Fails(Valid.Replace("dist: fixed, value: 100", "dist: normal, value: 100"));
        Assert.Equal("workload.prompt.dist", e.FieldPath);
        Assert.Contains("fixed, uniform, lognormal, mixture", e.Message);
    }

    [Fact]
    public void Cross_Field_Rule_Should_Point_At_The_Field()
    {
        var e = Fails(Valid.Replace("dist: fixed, value: 100", "dist: uniform, min: 50, max: 10"));
        Assert.Equal("workload.prompt.max", e.FieldPath);
    }

    [Fact]
    public void Catalog_Fields_Should_Be_Overridable_Inline_And_With_Set()
    {
        var inline = Load(Valid.Replace("model: opt-6.7b", "model: { name: opt-6.7b, layers: 4 }"));
        var viaSet = Load(Valid, "model.layers=4", "node.gpu.hbm_bandwidth_gb_per_s=2000", "workload.num_requests=3");

        Assert.Equal(4, inline.Model.Layers);
        Assert.Equal(4096, inline.Model.Hidden);
        Assert.Equal(4, viaSet.Model.Layers);
        Assert.Equal(2000, viaSet.Node.Gpu.HbmBandwidthGbPerS);
        Assert.Equal(3, ((SyntheticWorkload)viaSet.Workload).NumRequests);
    }

    [Fact]
    public void Bad_Set_Value_Should_Name_The_Argument()
    {
        var e = Fails(Valid, "workload.num_requests=lots");
        Assert.StartsWith("--set[1]", e.Location!.File);
        Assert.Equal("workload.num_requests", e.FieldPath);
    }

    [Fact]
    public void Invalid_Yaml_Should_Report_Its_Position()
    {
        var e = Fails("name: t\nmodel: [unclosed\n");
        Assert.Contains("invalid YAML", e.Message);
        Assert.NotNull(e.Location);
    }

    [Fact]
    public void Resolved_Config_Should_Load_Back_To_The_Same_Config()
    {
        var config = Load(Valid.Replace("dist: fixed, value: 100",
            "dist: mixture, components: [{ weight: 0.7, length: { dist: fixed, value: 5 } }, { weight: 0.3, length: { dist: uniform, min: 1, max: 9 } }]"));
        var yaml = ConfigWriter.ToYaml(config);

        var reloaded = Load(yaml);

        Assert.Equal(yaml, ConfigWriter.ToYaml(reloaded));
        Assert.Equal(config.Model, reloaded.Model);
        Assert.Equal(config.Node, reloaded.Node);
    }

    [Fact]
    public void Every_Catalog_Entry_Should_Load()
    {
        var binder = new ConfigBinder(Catalog);
        var where = new SourceLocation("test", 1, 1);
        foreach (var name in Catalog.Names("models"))
            Assert.IsType<ModelSpec>(binder.Bind(typeof(ModelSpec), Catalog.Resolve("models", new ScalarNode(name, true, where), "model"), "model"));
        foreach (var name in Catalog.Names("hardware/nodes"))
            Assert.IsType<NodeSpec>(binder.Bind(typeof(NodeSpec), Catalog.Resolve("hardware/nodes", new ScalarNode(name, true, where), "node"), "node"));
        Assert.Equal(10, Catalog.Names("models").Count); // 9 published models and tiny-gqa for the CPU accelerator
        foreach (var name in Catalog.Names("hardware/gpus"))
            Assert.IsType<GpuSpec>(binder.Bind(typeof(GpuSpec), Catalog.Resolve("hardware/gpus", new ScalarNode(name, true, where), "gpu"), "gpu"));
        Assert.Equal(5, Catalog.Names("hardware/gpus").Count); // A100 PCIe 40/80 GB and SXM 80 GB, H100 SXM, H200
    }

    [Theory]
    [InlineData("opt-13b", 12.85, 819200)]      // OPT-13B: ~12.9B params; 2*40*40*128*2 bytes of KV per token
    [InlineData("llama-2-7b", 6.74, 524288)]    // Llama-2-7B: 6.74B params
    [InlineData("llama-3.1-70b", 70.55, 327680)] // GQA: 8 KV heads
    public void Model_Sizes_Should_Match_Published_Counts(string name, double billions, long kvBytesPerToken)
    {
        var model = Load(Valid.Replace("model: opt-6.7b", $"model: {name}")).Model;
        Assert.InRange(model.TotalParams / 1e9, billions * 0.98, billions * 1.02);
        Assert.Equal(kvBytesPerToken, model.KvBytesPerToken);
    }
}
