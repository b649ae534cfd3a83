using Simulator.Config;
using Simulator.Specs;

namespace Simulator.Calibration;

/// <summary>
/// A Vidur profiling folder (microsoft/vidur, layout as of commit 7d47513, 2024-11-19) read as a calibration, for one model
/// at tensor-parallel degree 1 (this simulator runs an instance on one GPU). Files, in Vidur's own column layout:
/// <list type="bullet">
/// <item><c>mlp.csv</c> (required unless attention.csv is there): rows whose n_head, n_kv_head, n_embd, n_expanded_embd
/// and use_gated_mlp match the model; one layer's dense time at num_tokens is the sum of the medians of input_layernorm,
/// attn_pre_proj, attn_rope, attn_post_proj, post_attention_layernorm, mlp_up_proj, mlp_act, mlp_down_proj and add
/// (Vidur's per-layer ops; a missing norm or add column counts 0, as in Vidur); emb is per pass, not per layer, and is
/// not used (the LM head stays with the closed form). Rows at the same num_tokens give their median.</item>
/// <item><c>attention.csv</c>: rows whose n_embd, n_q_head, n_kv_head and block_size match. Decode rows (is_prefill False)
/// become attention samples: a batch of batch_size requests all at kv_cache_size tokens taking attn_decode's median; the
/// kernel is attention_backend's (FLASH_ATTENTION: fa2, FLASHINFER: flashinfer). Vidur measures uniform batches only, so
/// the correction is interpolated over batch size and mean KV length and the spread of a ragged batch stays with the
/// closed form (<see cref="CalibrationTables.SpreadMeasured"/>). Prefill rows (one request, prefill_chunk_size new tokens
/// after kv_cache_size computed ones, attn_prefill's median) become prefill samples (<see cref="PrefillTable"/>).
/// attn_kv_cache_save and the reshapes are not used.</item>
/// <item><c>send_recv.csv</c>: rows with collective send_recv between 2 workers on one node (devices_per_node 2, the
/// pairs Vidur's single-node pipeline stages use) become peer copies of size bytes, fitted to NVLink latency and bandwidth.</item>
/// <item><c>cpu_overheads.csv</c>: rows at tensor_parallel_degree 1; schedule, sampler_e2e, prepare_inputs_e2e and
/// process_model_outputs medians summed per batch_size and fitted to the engine's host time per pass as a fixed part plus
/// a part per request (cost_model.engine_cpu_fixed_us and engine_cpu_per_sequence_us, unless the experiment sets them).
/// ray_comm_time is not used (one worker).</item>
/// <item><c>all_reduce.csv</c> is not used: a calibration prices single-GPU instances only (tensor-parallel collectives come from the node catalog's fits).</item>
/// </list>
/// Times are milliseconds in Vidur's files. Rows are filtered as Vidur's own predictor filters them
/// (vidur/execution_time_predictor/sklearn_execution_time_predictor.py); none matching is an error naming what is there.
/// </summary>
public static class VidurProfile
{
    public const string Scheme = "vidur";
    public const string MlpFile = "mlp.csv";
    public const string AttentionFile = "attention.csv";
    public const string SendRecvFile = "send_recv.csv";
    public const string CpuOverheadFile = "cpu_overheads.csv";
    public const string AllReduceFile = "all_reduce.csv";

    private static readonly string[] DenseOps =
        ["input_layernorm", "attn_pre_proj", "attn_rope", "attn_post_proj", "post_attention_layernorm", "mlp_up_proj", "mlp_act", "mlp_down_proj", "add"];

    /// <summary>Ops Vidur leaves out of some profiles, counted as 0 there (as Vidur's predictor does).</summary>
    private static readonly string[] OptionalOps = ["input_layernorm", "post_attention_layernorm", "add"];

    private static readonly string[] HostParts = ["schedule", "sampler_e2e", "prepare_inputs_e2e", "process_model_outputs"];

    /// <summary>The folder of a <c>vidur:DIR</c> calibration value, or null for a calibration file.</summary>
    public static string? FolderOf(string calibration) =>
        calibration.StartsWith(Scheme + ":", StringComparison.Ordinal) ? calibration[(Scheme.Length + 1)..] : null;

    /// <summary>Reads the folder's files for <paramref name="model"/> with KV blocks of <paramref name="blockSizeTokens"/> tokens.</summary>
    /// <param name="config">The calibration file naming the folder (its device and fitted GPU fields kept), or null for <c>vidur:DIR</c>.</param>
    public static CalibrationTables Load(string dir, ModelSpec model, int blockSizeTokens, CalibrationConfig? config = null, string? path = null)
    {
        if (!Directory.Exists(dir)) throw new ConfigException(null, "cost_model.calibration", $"Vidur profile folder '{dir}' does not exist");
        var mlp = Path.Combine(dir, MlpFile);
        var attentionPath = Path.Combine(dir, AttentionFile);
        if (!File.Exists(mlp) && !File.Exists(attentionPath))
            throw new ConfigException(null, "cost_model.calibration", $"Vidur profile folder '{dir}' has neither {MlpFile} nor {AttentionFile}");
        var notes = new List<string>();
        var dense = File.Exists(mlp) ? Dense(mlp, model) : [];
        var prefill = new List<PrefillSample>();
        var (attention, backend) = File.Exists(attentionPath) ? Attention(attentionPath, model, blockSizeTokens, prefill) : ([], "none");
        var sendRecv = Path.Combine(dir, SendRecvFile);
        var links = File.Exists(sendRecv) ? Links(sendRecv) : [];
        var cpu = Path.Combine(dir, CpuOverheadFile);
        var host = File.Exists(cpu) ? Host(cpu) : null;
        if (File.Exists(Path.Combine(dir, AllReduceFile)))
            notes.Add($"{AllReduceFile} not used: a calibration prices single-GPU instances only (a calibrated run with tp > 1 is refused; collectives come from the node catalog)");
        config ??= new CalibrationConfig($"Vidur profile {Path.GetFileName(Path.TrimEndingDirectorySeparator(dir))}", backend, new GpuCalibration());
        return new CalibrationTables(path ?? $"{Scheme}:{dir}", config, attention, dense, links, SpreadMeasured: false, Host: host, Notes: notes,
            Prefill: prefill);
    }

    private static List<DenseSample> Dense(string path, ModelSpec model)
    {
        var gated = model.FfnKind == FfnKind.Swiglu;
        var rows = VidurCsv.Read(path,
            ["n_head", "n_kv_head", "n_embd", "n_expanded_embd", "use_gated_mlp", "num_tokens", "num_tensor_parallel_workers", .. DenseOps.Except(OptionalOps).Select(Median)]);
        var seen = new SortedSet<string>(StringComparer.Ordinal);
        var byTokens = new SortedDictionary<int, List<double>>();
        foreach (var row in rows)
        {
            var shape = (Heads: row.Int("n_head"), KvHeads: row.Int("n_kv_head"), Hidden: row.Int("n_embd"), Ffn: row.Int("n_expanded_embd"),
                Gated: row.Bool("use_gated_mlp"), Tp: row.Int("num_tensor_parallel_workers"));
            seen.Add($"n_head {shape.Heads}, n_kv_head {shape.KvHeads}, n_embd {shape.Hidden}, n_expanded_embd {shape.Ffn}, "
                     + $"use_gated_mlp {shape.Gated}, tp {shape.Tp}");
            if (shape != (model.Heads, model.KvHeads, model.Hidden, model.Ffn, gated, 1)) continue;
            var layerMs = DenseOps.Sum(op => OptionalOps.Contains(op) && !row.Has(Median(op)) ? 0 : row.NonNegative(Median(op)));
            var tokens = row.Int("num_tokens");
            (byTokens.TryGetValue(tokens, out var list) ? list : byTokens[tokens] = []).Add(layerMs);
        }
        if (byTokens.Count == 0)
            throw NoMatch(path, $"n_head {model.Heads}, n_kv_head {model.KvHeads}, n_embd {model.Hidden}, n_expanded_embd {model.Ffn}, use_gated_mlp {gated}, tp 1",
                model, seen);
        return byTokens.Select(kv => new DenseSample(kv.Key, MedianOf(kv.Value) * 1000)).ToList();
    }

    private static (List<AttentionSample>, string Backend) Attention(string path, ModelSpec model, int blockSize, List<PrefillSample> prefill)
    {
        var rows = VidurCsv.Read(path, ["n_embd", "n_q_head", "n_kv_head", "block_size", "num_tensor_parallel_workers", "batch_size", "prefill_chunk_size",
            "kv_cache_size", "is_prefill", "attention_backend", Median("attn_decode"), Median("attn_prefill")]);
        var prefillTimes = new SortedDictionary<(int Chunk, int Kv), List<double>>();
        var seen = new SortedSet<string>(StringComparer.Ordinal);
        var samples = new SortedDictionary<(int Batch, int Kv), List<double>>();
        string? kernel = null, backend = null;
        foreach (var row in rows)
        {
            var shape = (Hidden: row.Int("n_embd"), Heads: row.Int("n_q_head"), KvHeads: row.Int("n_kv_head"), Block: row.Int("block_size"),
                Tp: row.Int("num_tensor_parallel_workers"));
            seen.Add($"n_embd {shape.Hidden}, n_q_head {shape.Heads}, n_kv_head {shape.KvHeads}, block_size {shape.Block}, tp {shape.Tp}");
            if (shape != (model.Hidden, model.Heads, model.KvHeads, blockSize, 1)) continue;
            if (row.Bool("is_prefill"))
            {
                // Vidur profiles a prefill chunk of one request (batch_size 1) after kv_cache_size computed tokens.
                if (row.Int("batch_size") != 1) throw row.Error("batch_size", "a prefill row of Vidur's is one request (batch_size 1)");
                var chunk = (row.Int("prefill_chunk_size"), row.Int("kv_cache_size"));
                if (chunk.Item1 == 0) throw row.Error("prefill_chunk_size", "a prefill row needs a chunk of at least one token");
                (prefillTimes.TryGetValue(chunk, out var times) ? times : prefillTimes[chunk] = []).Add(row.Positive(Median("attn_prefill")));
                continue;
            }
            var rowBackend = row.Text("attention_backend");
            var rowKernel = KernelOf(rowBackend) ?? throw row.Error("attention_backend",
                $"'{rowBackend}' is not a kernel this simulator prices; expected AttentionBackend.FLASH_ATTENTION or AttentionBackend.FLASHINFER");
            if (kernel is not null && kernel != rowKernel)
                throw row.Error("attention_backend", $"'{rowBackend}' differs from the earlier rows' {backend}: profile one backend per folder");
            (kernel, backend) = (rowKernel, rowBackend);
            var key = (row.Int("batch_size"), row.Int("kv_cache_size"));
            (samples.TryGetValue(key, out var list) ? list : samples[key] = []).Add(row.Positive(Median("attn_decode")));
        }
        if (samples.Count == 0)
            throw NoMatch(path, $"n_embd {model.Hidden}, n_q_head {model.Heads}, n_kv_head {model.KvHeads}, block_size {blockSize}, tp 1, is_prefill False",
                model, seen);
        prefill.AddRange(prefillTimes.Select(kv => new PrefillSample(kv.Key.Chunk, kv.Key.Kv, MedianOf(kv.Value) * 1000)));
        var attention = samples.Select(kv => new AttentionSample(kernel!, kv.Key.Batch, kv.Key.Kv, kv.Key.Kv, MedianOf(kv.Value) * 1000)).ToList();
        return (attention, backend!);
    }

    /// <summary>Vidur's attention backends as this simulator's kernel families (their <see cref="Config.ConfigNames.EnumName"/>).</summary>
    private static string? KernelOf(string backend) => backend switch
    {
        "AttentionBackend.FLASH_ATTENTION" or "FLASH_ATTENTION" => "fa2",
        "AttentionBackend.FLASHINFER" or "FLASHINFER" => "flashinfer",
        _ => null,
    };

    private static List<LinkSample> Links(string path)
    {
        var samples = new List<LinkSample>();
        foreach (var row in VidurCsv.Read(path, ["collective", "num_workers", "devices_per_node", "size", Median("send_recv")]))
            if (row.Text("collective") == "send_recv" && row.Int("num_workers") == 2 && row.Int("devices_per_node") == 2)
                samples.Add(new LinkSample("peer", row.Long("size"), row.Positive(Median("send_recv")) * 1000));
        if (samples.Select(s => s.Bytes).Distinct().Count() < 2)
            throw new ConfigException(new SourceLocation(path, 1, 1), "",
                "fewer than two sizes of send_recv between 2 workers on one node (devices_per_node 2): the NVLink fit needs two");
        return samples;
    }

    private static HostFit Host(string path)
    {
        var points = new SortedDictionary<int, List<double>>();
        var models = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var row in VidurCsv.Read(path, ["model_name", "batch_size", "tensor_parallel_degree", .. HostParts.Select(p => $"{p}_median")]))
        {
            if (row.Int("tensor_parallel_degree") != 1) continue;
            models.Add(row.Text("model_name"));
            var ms = HostParts.Sum(p => row.NonNegative($"{p}_median"));
            var batch = row.Int("batch_size");
            (points.TryGetValue(batch, out var list) ? list : points[batch] = []).Add(ms);
        }
        if (models.Count > 1)
            throw new ConfigException(new SourceLocation(path, 1, 1), "",
                $"rows for several models ({string.Join(", ", models)}) at tensor_parallel_degree 1: keep the model's rows only");
        return HostFit.Of(points.Select(kv => ((double)kv.Key, MedianOf(kv.Value) * 1000)).ToList())
            ?? throw new ConfigException(new SourceLocation(path, 1, 1), "", "fewer than two batch sizes at tensor_parallel_degree 1: the host-time fit needs two");
    }

    private static ConfigException NoMatch(string path, string wanted, ModelSpec model, IEnumerable<string> seen) =>
        new(new SourceLocation(path, 1, 1), "", $"no row for model {model.Name} ({wanted}); the file holds: {(seen.Any() ? string.Join("; ", seen) : "no rows")}");

    private static string Median(string op) => $"time_stats.{op}.median";

    private static double MedianOf(List<double> values)
    {
        values.Sort();
        var n = values.Count;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }
}
