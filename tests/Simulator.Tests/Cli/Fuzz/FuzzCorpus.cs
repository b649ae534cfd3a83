namespace Simulator.Tests.Cli.Fuzz;

/// <summary>The valid inputs the fuzz suite mutates: tiny enough that a run that survives its mutation takes milliseconds.</summary>
internal static class FuzzCorpus
{
    public const string Experiment = """
        name: fz
        seed: 3
        model: tiny-gqa
        node: dgx-h100
        policy: { name: vllm, max_num_seqs: 8, max_num_batched_tokens: 256 }
        max_requests: 4
        workload:
          kind: synthetic
          num_requests: 4
          arrival: { process: poisson, rate_per_s: 50 }
          prompt: { dist: uniform, min: 16, max: 40 }
          output: { dist: fixed, value: 4 }
        engine: { block_size_tokens: 16, kv_blocks: 64 }
        deployment: { nodes: 1, gpus: [ { role: colocated, count: 1 } ] }
        metrics: { iteration_records: true }

        """;

    /// <summary>Two nodes of one prefill and two decode GPUs handing KV through the host pool, under aligned.</summary>
    public static string Disaggregated { get; } = Experiment
        .Replace("policy: { name: vllm, max_num_seqs: 8, max_num_batched_tokens: 256 }", "policy: { name: aligned, k_min: 2 }")
        .Replace("deployment: { nodes: 1, gpus: [ { role: colocated, count: 1 } ] }",
            "deployment: { nodes: 2, gpus: [ { role: prefill, count: 1 }, { role: decode, count: 2 } ], handoff: host_pool, host_pool_gib: 4 }");

    public const string Sweep = Experiment + """
        sweep:
          grid:
            policy: [vllm, orca]
          seeds: 1
          max_points: 4

        """;

    /// <summary>A trace of each format (file name, text) and the workload section that reads it.</summary>
    public static IReadOnlyList<(string File, string Text, string Workload)> Traces { get; } =
    [
        ("azure2023.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,37,4\n2023-11-16 18:15:46.9951690,39,10\n2023-11-16 18:15:47.2224670,87,5\n",
            "{ kind: trace, format: azure2023, path: azure2023.csv }"),
        ("azure2024.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n2024-05-10 00:00:00.0098160+00:00,20,12\n2024-05-10 00:00:01+00:00,100,5\n2024-05-10 02:00:01.5+02:00,7,3\n",
            "{ kind: trace, format: azure2024, path: azure2024.csv }"),
        ("mooncake.jsonl", "{\"timestamp\": 0, \"input_length\": 67, \"output_length\": 5, \"hash_ids\": [0, 1]}\n{\"timestamp\": 250, \"input_length\": 10, \"output_length\": 3, \"hash_ids\": [2]}\n{\"timestamp\": 900, \"input_length\": 42, \"output_length\": 1}\n",
            "{ kind: trace, format: mooncake, path: mooncake.jsonl, clip_to_context: false }"),
        ("burstgpt.csv", "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n0.5,ChatGPT,47,18,65,Conversation log\n1.25,GPT-4,108,0,108,Conversation log\n2,ChatGPT,30,6,36,API log\n",
            "{ kind: trace, format: burstgpt, path: burstgpt.csv }"),
        ("vidur.csv", "arrived_at,num_prefill_tokens,num_decode_tokens,num_total_tokens\n0.0,51,6,57\n0.1,102,3,105\n0.35,20,2,22\n",
            "{ kind: trace, format: vidur, path: vidur.csv, max_request_tokens: 100000 }"),
        ("lengths.csv", "num_prefill_tokens,num_decode_tokens\n10,1\n20,2\n30,3\n",
            "{ kind: trace, format: lengths, path: lengths.csv, arrival: { process: burst }, on_malformed: fail }"),
    ];

    /// <summary>The experiment with its workload replaced by a trace's.</summary>
    public static string TraceExperiment(string workload)
    {
        var lines = Experiment.Split('\n');
        var start = Array.FindIndex(lines, l => l.StartsWith("workload:", StringComparison.Ordinal));
        var end = Array.FindIndex(lines, start + 1, l => !l.StartsWith(' '));
        return string.Join('\n', lines[..start].Append($"workload: {workload}").Concat(lines[end..]));
    }
}
