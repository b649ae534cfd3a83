using System.Globalization;
using Simulator.Calibration;
using Simulator.Cli;
using Simulator.Config;
using Simulator.CostModel;
using Simulator.Output;
using Simulator.Runs;
using Simulator.Specs;

namespace Simulator.Tests.Calibration;

/// <summary>A Vidur profiling folder read as a calibration (the fixture's numbers are invented, in Vidur's column layout).</summary>
public sealed class VidurProfileTests
{
    private static string Folder => Path.Combine(AppContext.BaseDirectory, "Fixtures", "vidur", "h100-llama-2-7b");

    private static ModelSpec Model(string name) => ExperimentLoader.Load(RepoPaths.Quickstart, [$"model={name}"]).Model;

    private static CalibrationTables Load(string? folder = null, string model = "llama-2-7b") => VidurProfile.Load(folder ?? Folder, Model(model), 16);

    /// <summary>The fixture's rows as (column -> value) maps, read without the simulator's reader.</summary>
    private static List<Dictionary<string, string>> Rows(string file)
    {
        var lines = File.ReadAllLines(Path.Combine(Folder, file));
        var header = lines[0].Split(',');
        return lines.Skip(1).Select(l => header.Zip(l.Split(',')).ToDictionary(p => p.First, p => p.Second)).ToList();
    }

    private static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    [Fact]
    public void Mlp_Rows_Should_Become_One_Layers_Dense_Time_Summed_Over_Vidurs_Per_Layer_Ops()
    {
        var tables = Load();

        // 13 sizes at TP 1 for this model (TP 2 rows and another model's rows filtered out, a repeated size merged).
        Assert.Equal([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096], tables.Dense.Select(d => d.Tokens));
        string[] ops = ["input_layernorm", "attn_pre_proj", "attn_rope", "attn_post_proj", "post_attention_layernorm", "mlp_up_proj", "mlp_act", "mlp_down_proj", "add"];
        foreach (var tokens in new[] { "1", "512", "4096" })
        {
            var row = Rows(VidurProfile.MlpFile).First(r => r["num_tokens"] == tokens && r["num_tensor_parallel_workers"] == "1" && r["n_embd"] == "4096");
            var expectedUs = ops.Sum(op => D(row[$"time_stats.{op}.median"])) * 1000; // emb is per pass, not per layer
            Assert.Equal(expectedUs, tables.Dense.Single(d => d.Tokens == int.Parse(tokens, CultureInfo.InvariantCulture)).TimeUs, 9);
        }
    }

    [Fact]
    public void Decode_Attention_Rows_Should_Become_Uniform_Samples_Of_The_Backends_Kernel()
    {
        var tables = Load();

        Assert.Equal(7 * 8, tables.Attention.Count);
        Assert.All(tables.Attention, a => Assert.Equal("fa2", a.Kernel));
        Assert.All(tables.Attention, a => Assert.Equal(a.KvMean, a.KvMax));
        Assert.False(tables.SpreadMeasured);
        var row = Rows(VidurProfile.AttentionFile).First(r => r["batch_size"] == "32" && r["kv_cache_size"] == "1024" && r["num_tensor_parallel_workers"] == "1");
        Assert.Equal(D(row["time_stats.attn_decode.median"]) * 1000, tables.Attention.Single(a => a.Batch == 32 && a.KvMean == 1024).TimeUs, 9);
        Assert.Contains(tables.Notes!, n => n.Contains("all_reduce.csv not used", StringComparison.Ordinal));
    }

    [Fact]
    public void Prefill_Rows_Should_Correct_The_Closed_Form_Of_A_Chunk_Inside_Their_Range()
    {
        var tables = Load();

        Assert.Equal([(256, 0), (1024, 0), (2048, 0)], tables.Prefill!.Select(p => (p.ChunkTokens, p.ContextTokens)));
        var row = Rows(VidurProfile.AttentionFile).First(r => r["prefill_chunk_size"] == "1024" && r["num_tensor_parallel_workers"] == "1");
        Assert.Equal(D(row["time_stats.attn_prefill.median"]) * 1000, tables.Prefill![1].TimeUs, 9);
        // A closed form of 1 us per chunk token: at a sample the factor is measured / closed form exactly.
        var costs = new CalibratedCosts(tables, (_, _) => 1, (chunk, _) => chunk * 1000.0);
        Assert.Equal(tables.Prefill![1].TimeUs * 1000 / (1024 * 1000.0), costs.PrefillFactor(1024, 0)!.Value, 12);
        var (at256, at1024) = (costs.PrefillFactor(256, 0)!.Value, costs.PrefillFactor(1024, 0)!.Value);
        Assert.InRange(costs.PrefillFactor(700, 0)!.Value, Math.Min(at256, at1024), Math.Max(at256, at1024));
        Assert.Null(costs.PrefillFactor(4096, 0));
        Assert.Null(costs.PrefillFactor(512, 512)); // the fixture profiles no chunk after a context
        Assert.Contains("2 of", costs.Report());
    }

    [Fact]
    public void Send_Recv_And_Cpu_Overheads_Should_Fit_The_Formulas_The_Fixture_Was_Made_With()
    {
        var tables = Load();

        // make_fixture.py: 6 us + bytes at 300 GB/s within a node; 0.25 ms + 0.02 ms per request of host time.
        var peer = LinkFit.Of(tables.Links, "peer")!;
        Assert.Equal(300, peer.GbPerS, 300 * 0.002);
        Assert.Equal(6, peer.LatencyUs, 0.05);
        Assert.Equal(250, tables.Host!.FixedUs, 0.5);
        Assert.Equal(20, tables.Host.PerSequenceUs, 0.02);
    }

    [Fact]
    public void Ragged_Batch_Should_Take_The_Uniform_Correction_At_Its_Size_And_Mean_When_Spread_Was_Not_Measured()
    {
        var tables = Load();
        var costs = new CalibratedCosts(tables, (_, lengths) => lengths.Sum() * 10.0);

        var uniform = costs.AttentionFactor(AttentionKernel.Fa2, 32, 1024, 1024);
        var ragged = costs.AttentionFactor(AttentionKernel.Fa2, 32, 1024, 4000);

        Assert.NotNull(uniform);
        Assert.Equal(uniform, ragged);
        // The same samples claiming to have measured spread refuse a spread they never saw.
        var strict = new CalibratedCosts(tables with { SpreadMeasured = true }, (_, lengths) => lengths.Sum() * 10.0);
        Assert.Null(strict.AttentionFactor(AttentionKernel.Fa2, 32, 1024, 4000));
    }

    [Fact]
    public void Model_Without_Rows_Should_Be_Refused_Naming_The_File_And_What_It_Holds()
    {
        var e = Assert.Throws<ConfigException>(() => Load(model: "opt-6.7b"));

        Assert.EndsWith(VidurProfile.MlpFile, e.Location!.File);
        Assert.Contains("no row for model opt-6.7b", e.Message);
        Assert.Contains("n_embd 4096, n_expanded_embd 11008, use_gated_mlp True, tp 1", e.Message);
    }

    [Fact]
    public void Malformed_Value_And_Lfs_Pointer_Should_Be_Refused_Naming_File_Line_And_Column()
    {
        using var dir = new TempDir();
        foreach (var file in Directory.EnumerateFiles(Folder)) File.Copy(file, Path.Combine(dir.Path, Path.GetFileName(file)));
        var lines = File.ReadAllLines(Path.Combine(Folder, VidurProfile.AttentionFile));
        lines[3] = lines[3].Replace(",32,32,16,", ",32,32,sixteen,", StringComparison.Ordinal);
        File.WriteAllLines(Path.Combine(dir.Path, VidurProfile.AttentionFile), lines);

        var e = Assert.Throws<ConfigException>(() => Load(dir.Path));
        Assert.Equal(4, e.Location!.Line);
        Assert.Contains("block_size", e.Message);

        File.WriteAllText(Path.Combine(dir.Path, VidurProfile.AttentionFile), "version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 10\n");
        Assert.Contains("Git LFS pointer", Assert.Throws<ConfigException>(() => Load(dir.Path)).Message);
    }

    [Fact]
    public void Run_With_Vidur_Calibration_Should_Price_By_It_The_Same_From_The_Cli_And_From_Yaml()
    {
        using var dir = new TempDir();
        string[] common = ["--set", "model=llama-2-7b", "--set", "workload.num_requests=100"];
        var plain = Path.Combine(dir.Path, "plain");
        var cli = Path.Combine(dir.Path, "cli");
        var yaml = Path.Combine(dir.Path, "yaml");
        dir.File("vidur.yaml", $"device: \"invented H100\"\nbackend: vidur\ngpu: {{}}\nvidur_profile: {Folder}\n");

        Assert.Equal(ExitCodes.Ok, CliApp.Start(["run", RepoPaths.Quickstart, "--out", plain, .. common]));
        Assert.Equal(ExitCodes.Ok, CliApp.Start(["run", RepoPaths.Quickstart, "--out", cli, "--calibration", $"vidur:{Folder}", .. common]));
        Assert.Equal(ExitCodes.Ok, CliApp.Start(["run", RepoPaths.Quickstart, "--out", yaml, "--calibration", Path.Combine(dir.Path, "vidur.yaml"), .. common]));

        var summary = File.ReadAllText(Path.Combine(cli, ResultsWriter.SummaryJsonFile));
        Assert.Equal(summary, File.ReadAllText(Path.Combine(yaml, ResultsWriter.SummaryJsonFile)));
        Assert.NotEqual(File.ReadAllText(Path.Combine(plain, ResultsWriter.SummaryJsonFile)), summary);
        var resolved = File.ReadAllText(Path.Combine(cli, ResultsWriter.ResolvedConfigFile));
        Assert.Contains($"calibration: \"vidur:{Folder}\"", resolved);
        Assert.Matches(@"engine_cpu_fixed_us: 2(49\.9|50)", resolved);
    }

    [Fact]
    public void Vidur_Folder_In_An_Experiment_Should_Resolve_Against_The_File_And_Name_Sweep_Runs_By_Its_Contents()
    {
        using var dir = new TempDir();
        var profile = Path.Combine(dir.Path, "profile");
        Directory.CreateDirectory(profile);
        foreach (var file in Directory.EnumerateFiles(Folder)) File.Copy(file, Path.Combine(profile, Path.GetFileName(file)));
        var experiment = dir.File("exp.yaml", File.ReadAllText(RepoPaths.Quickstart).Replace("cost_model:\n", "cost_model:\n  calibration: vidur:profile\n", StringComparison.Ordinal)
            .Replace("model: opt-6.7b", "model: llama-2-7b", StringComparison.Ordinal));

        var config = ExperimentLoader.Load(experiment, []);
        var (_, tables) = PreparedRun.Calibrate(config);
        var before = Simulator.Sweeps.SweepPlan.Hash(config);
        File.AppendAllText(Path.Combine(profile, VidurProfile.SendRecvFile), "99,0.1,0.1,0.1,0.1,0,0,2,4096,send_recv,2,8\n");

        Assert.Equal($"vidur:{profile}", config.CostModel.Calibration);
        Assert.Equal(56, tables!.Attention.Count);
        Assert.NotEqual(before, Simulator.Sweeps.SweepPlan.Hash(config));
    }

    [Fact]
    public void Missing_Vidur_Folder_Should_Exit_2()
    {
        using var dir = new TempDir();

        var code = CliApp.Start(["run", RepoPaths.Quickstart, "--out", Path.Combine(dir.Path, "out"), "--calibration", $"vidur:{Path.Combine(dir.Path, "none")}"]);

        Assert.Equal(ExitCodes.InvalidInput, code);
    }
}
