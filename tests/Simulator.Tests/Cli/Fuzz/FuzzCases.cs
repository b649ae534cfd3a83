namespace Simulator.Tests.Cli.Fuzz;

/// <summary>Writes one fuzz case's inputs into the sandbox and returns its command line; the kind cycles with the case number.</summary>
internal static class FuzzCases
{
    private static readonly string[] SetPaths =
    [
        "name", "seed", "model", "node", "policy", "policy.name", "policy.max_num_seqs", "policy.max_num_batched_tokens", "max_requests",
        "workload.num_requests", "workload.prompt.min", "workload.prompt.max", "workload.output.value", "workload.arrival.rate_per_s",
        "workload.arrival.process", "engine.block_size_tokens", "engine.kv_blocks", "engine.gpu_memory_utilization", "deployment.gpus",
        "deployment.nodes", "deployment.handoff", "deployment.host_pool_gib", "deployment.gpus.0.count", "deployment.gpus.0.role",
        "cost_model.attention_mode", "metrics.iteration_records", "model.layers", "model.max_position_tokens", "node.gpu.hbm_bandwidth_gb_per_s",
        "workload", "sweep", "study", "unknown.key", "",
    ];

    private static readonly string[] Words =
    [
        "run", "check", "sweep", "merge", "plot", "list", "--help", "-h", "--version", "", "unknown", "exp.yaml", "sweep.yaml", "missing.yaml",
        "keep.txt", "user-folder", "user-folder/thesis.tex", ".", "..", "../sentinel", "out", "out2", "results", "/proc/fz", "/", "-", "--",
        "--out", "--out", "--seed", "--set", "--jobs", "-j", "--shard", "--yes", "--retry-failed", "--dry-run", "--print", "--calibration",
        "--catalog", "1/2", "0/0", "3/2", "2/2", "0", "-1", "99999999999", "name=..", "=", "a.b.c=1", "workload.num_requests=3", "@keep.txt",
    ];

    private static readonly string[] Targets =
        ["out", "out", "out2", ".", "..", "../sentinel", "keep.txt", "user-folder", "user-folder/thesis.tex", "/proc/fz", "/", "out/inner", "results", "mine"];

    public static string[] Prepare(int index, Mutator m, FuzzSandbox box)
    {
        box.Write("work/exp.yaml", FuzzCorpus.Experiment);
        box.Write("work/sweep.yaml", FuzzCorpus.Sweep);
        switch (index % 10)
        {
            case 0 or 1 or 2:
                box.Write("work/exp.yaml", m.Config(index % 3 == 2 ? FuzzCorpus.Disaggregated : FuzzCorpus.Experiment));
                return Command(m, "exp.yaml");
            case 3 or 4:
            {
                var (file, text, workload) = FuzzCorpus.Traces[index / 10 % FuzzCorpus.Traces.Count];
                box.WriteBytes($"work/{file}", m.Bytes(m.Trace(text)));
                box.Write("work/exp.yaml", FuzzCorpus.TraceExperiment(workload));
                string[] args = Command(m, "exp.yaml");
                return m.Pick([0, 1]) == 0 ? [.. args, "--set", "workload.on_malformed=skip"] : args;
            }
            case 5:
            {
                if (m.Pick([0, 1, 2]) > 0) box.Write("work/sweep.yaml", m.Config(FuzzCorpus.Sweep));
                string[] how = m.Pick<string[]>([["--jobs", "1"], ["--dry-run"], ["--retry-failed", "-j", "2"], ["--shard", "1/2"], []]);
                return m.Pick([0, 1, 2]) == 0 ? ["check", "sweep.yaml"] : ["sweep", "sweep.yaml", "--out", m.Pick(["out", "out", "out2"]), .. how];
            }
            case 6 or 7:
            {
                var words = new List<string> { m.Pick(["run", "check", "sweep", "merge", "plot", "list"]) };
                var count = 1 + m.Pick([0, 1, 2, 3, 4, 5]);
                for (var k = 0; k < count; k++) words.Add(m.Pick([.. Words, m.ConfigValue()]));
                return [.. words];
            }
            case 8:
            {
                var args = new List<string> { m.Pick(["run", "check", "check"]), m.Pick(["exp.yaml", "sweep.yaml"]) };
                if (args[0] == "run") args.AddRange(["--out", "out"]);
                var count = 1 + m.Pick([0, 1, 2]);
                for (var k = 0; k < count; k++) args.AddRange(["--set", $"{m.Pick(SetPaths)}={m.ConfigValue()}"]);
                return [.. args];
            }
            default:
                return OutputFolder(m, box);
        }
    }

    private static string[] Command(Mutator m, string file) =>
        m.Pick([0, 1, 2, 3, 4]) switch
        {
            0 or 1 => ["check", file],
            2 or 3 => ["run", file, "--out", "out"],
            _ => ["run", file],
        };

    /// <summary>Valid experiments aimed at folders that hold a user's files, are files, or resolve above the working directory.</summary>
    private static string[] OutputFolder(Mutator m, FuzzSandbox box)
    {
        var name = m.Pick(["fz", "fz", "..", ".", "a/b", "keep.txt", "user-folder", new string('n', 300), "../x", "mine"]);
        box.Write("work/exp.yaml", FuzzCorpus.Experiment.Replace("name: fz", $"name: '{name}'"));
        switch (m.Pick([0, 1, 2, 3]))
        {
            case 0: box.Plant("work/out/user.txt", "a user's file where results would go"); break;
            case 1: box.Plant("work/results/fz/user.txt", "a user's file where results would go"); break;
            case 2: box.Plant("work/out", "a file named like the results folder"); break;
            default: break;
        }
        box.Write("work/mine/notes.txt", "the user's own folder");
        return m.Pick([0, 1]) == 0 ? ["run", "exp.yaml"] : ["run", "exp.yaml", "--out", m.Pick(Targets)];
    }
}
