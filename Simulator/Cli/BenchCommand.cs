using System.CommandLine;
using Simulator.Bench;
using Spectre.Console;

namespace Simulator.Cli;

/// <summary>
/// <c>bench</c>: the benchmark suite. Each subcommand prints its figures and appends them to
/// results/bench/bench.csv (with the commit id) unless <c>--no-record</c>; <c>bench all</c> runs them all.
/// </summary>
public static class BenchCommand
{
    private static readonly Option<bool> NoRecord = new("--no-record") { Description = "Print only; do not append to the CSV" };
    private static readonly Option<string> CsvPath = new("--csv") { Description = "CSV to append to", DefaultValueFactory = _ => BenchRecord.DefaultPath };

    private static BenchRecord? Record(ParseResult parsed) => parsed.GetValue(NoRecord) ? null : new BenchRecord(parsed.GetValue(CsvPath)!);

    public static Command Build()
    {
        var engine = new Command("engine", "(d) Events per second of the bare engine (timeout-heavy and resource-heavy models)") { NoRecord, CsvPath };
        engine.SetAction(parsed => Engine(Record(parsed)));
        var experiment = new Argument<FileInfo[]>("experiment")
        {
            Description = "Experiment files (default: configs/azure-conv-disaggregated.yaml with vllm and aligned, with Llama-3.1-70B on tensor-parallel instances, and configs/quickstart.yaml)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var sets = CliApp.SetOption();
        var serving = new Command("serving", "(a) Whole simulations: simulated/wall time, decode iterations/s, requests/s, memory") { experiment, sets, NoRecord, CsvPath };
        serving.SetAction(parsed => CliApp.Guard(() => Serving(parsed.GetValue(experiment) ?? [], parsed.GetValue(sets) ?? [], Record(parsed))));
        var formation = new Command("formation", "(c) Time of one aligned batch decision with 10k, 100k and 1M requests in the pool") { NoRecord, CsvPath };
        formation.SetAction(parsed => Formation(Record(parsed), [10_000, 100_000, 1_000_000]));
        var requests = new Option<int>("--requests") { Description = "Requests in the fleet run", DefaultValueFactory = _ => 1_000_000 };
        var fleet = new Command("fleet", "(b) 16 nodes x 8 H100 behind a router, a synthetic stream of requests, vllm and aligned") { requests, NoRecord, CsvPath };
        fleet.SetAction(parsed => Fleet(Record(parsed), parsed.GetValue(requests)));
        var quick = new Option<bool>("--quick") { Description = "Small sizes (a smoke test of the suite)" };
        var scale = new Command("scale", "Decode passes/s and bytes allocated per pass as the batch grows from 32 to 1,024, standing batches and the reference") { quick, NoRecord, CsvPath };
        scale.SetAction(parsed => Scale(Record(parsed), parsed.GetValue(quick) ? [8, 16] : [32, 64, 128, 256, 512, 1024]));
        var all = new Command("all", "Every scenario: fleet, serving, formation, scale, engine") { requests, quick, NoRecord, CsvPath };
        all.SetAction(parsed => CliApp.Guard(() =>
        {
            var record = Record(parsed);
            var q = parsed.GetValue(quick);
            // The fleet first: the process's peak working set is then the fleet's.
            Fleet(record, q ? 2_000 : parsed.GetValue(requests));
            if (q) QuickServing(record);
            else Serving([], [], record);
            Formation(record, q ? [1_000, 10_000] : [10_000, 100_000, 1_000_000]);
            Scale(record, q ? [8, 16] : [32, 64, 128, 256, 512, 1024]);
            Engine(record, q);
            if (record is not null) AnsiConsole.MarkupLineInterpolated($"appended to {Path.GetFullPath(record.Path)}");
            return ExitCodes.Ok;
        }));
        return new Command("bench", "Benchmarks that print figures and append them to results/bench/bench.csv") { all, engine, serving, fleet, formation, scale };
    }

    private static int Engine(BenchRecord? record, bool quick = false)
    {
        var table = new Table().Title("(d) event engine").AddColumns("scenario", "events", "wall s", "events/s", "bytes/event");
        foreach (var figure in quick ? [EngineBenchmark.TimeoutHeavy(100, 1000), EngineBenchmark.ResourceHeavy(10_000)] : new[] { EngineBenchmark.TimeoutHeavy(), EngineBenchmark.ResourceHeavy() })
        {
            table.AddRow(figure.Scenario, $"{figure.Events:N0}", $"{figure.WallSeconds:F3}", $"{figure.EventsPerSecond / 1e6:F2} M",
                $"{figure.AllocatedBytes / (double)figure.Events:F0}");
            record?.Add($"engine/{figure.Scenario}", ("events_per_s", figure.EventsPerSecond), ("wall_s", figure.WallSeconds),
                ("bytes_per_event", figure.AllocatedBytes / (double)figure.Events));
        }
        AnsiConsole.Write(table);
        return ExitCodes.Ok;
    }

    private static int Serving(IReadOnlyList<FileInfo> given, IReadOnlyList<string> sets, BenchRecord? record)
    {
        var runs = given.Count > 0
            ? given.Select(f => (File: f.FullName, Sets: sets, Label: Path.GetFileNameWithoutExtension(f.Name))).ToList()
            :
            [
                ("configs/azure-conv-disaggregated.yaml", sets, "azure-conv-4p4d-vllm"),
                ("configs/azure-conv-disaggregated.yaml", [.. sets, "policy=aligned", "deployment.handoff=host_pool"], "azure-conv-4p4d-aligned"),
                // Tensor parallelism: Llama-3.1-70B on the 8 H100s as a prefill and a decode instance of 4 GPUs each.
                ("configs/azure-conv-disaggregated.yaml", [.. sets, "model=llama-3.1-70b", "deployment.gpus=[{role: prefill, count: 1, tp: 4}, {role: decode, count: 1, tp: 4}]"],
                    "azure-conv-llama70b-tp4p-tp4d-vllm"),
                ("configs/quickstart.yaml", sets, "quickstart"),
            ];
        foreach (var (file, runSets, label) in runs)
        {
            ServingBenchmark.Figure f;
            try
            {
                f = ServingBenchmark.Measure(file, runSets);
            }
            catch (Config.ConfigException e) when (given.Count == 0)
            {
                Console.WriteLine($"skipped {label}: {e.Message}"); // a default experiment whose trace is not here
                continue;
            }
            Print($"(a) {label}", f);
            record?.Add($"serving/{label}", Figures(f));
        }
        return ExitCodes.Ok;
    }

    /// <summary>A small generated experiment (no files from the repository needed), for the smoke test of the suite.</summary>
    private static void QuickServing(BenchRecord? record)
    {
        var f = ServingBenchmark.Measure(ServingBenchmark.Prepare(QuickExperiment));
        Print("(a) quick", f);
        record?.Add("serving/quick", Figures(f));
    }

    private const string QuickExperiment = """
        name: bench-quick
        model: opt-6.7b
        node: dgx-h100
        policy: vllm
        workload:
          kind: synthetic
          num_requests: 300
          arrival: { process: poisson, rate_per_s: 20 }
          prompt: { dist: lognormal, median: 300, sigma: 0.8, min: 16, max: 4000 }
          output: { dist: lognormal, median: 100, sigma: 0.7, min: 4, max: 500 }
        """;

    private static int Fleet(BenchRecord? record, int requests)
    {
        foreach (var policy in new[] { "vllm", "aligned" })
        {
            var f = FleetBenchmark.Measure(policy, requests);
            Print($"(b) fleet {policy}", f);
            record?.Add($"fleet/{policy}", [.. Figures(f), ("requests", requests)]);
        }
        return ExitCodes.Ok;
    }

    private static int Formation(BenchRecord? record, int[] pools)
    {
        foreach (var pooled in pools)
        {
            var f = FormationBenchmark.Measure(pooled);
            Console.WriteLine($"(c) aligned formation, {f.Pooled:N0} pooled: {f.Decisions} decisions, mean {f.DecisionUs.Mean:F1} us, " +
                $"P50 {f.DecisionUs.P50:F1} us, P99 {f.DecisionUs.P99:F1} us; mean batch {f.MeanBatch:F0} requests; allocated {f.BytesPerDecision:N0} bytes per decision");
            record?.Add($"formation/{f.Pooled}", ("decision_mean_us", f.DecisionUs.Mean), ("decision_p99_us", f.DecisionUs.P99), ("mean_batch", f.MeanBatch),
                ("bytes_per_decision", f.BytesPerDecision));
        }
        return ExitCodes.Ok;
    }

    private static int Scale(BenchRecord? record, int[] batches)
    {
        var table = new Table().Title("decode batch size vs per-pass cost (marginal: 10,000 vs 400 output tokens)")
            .AddColumns("batch", "passes/s", "ns per request per pass", "bytes/pass", "reference passes/s", "reference ns per request per pass");
        foreach (var batch in batches) ScaleBenchmark.Measure(batch); // a first pass over every size, so no size is measured before the code is optimized
        foreach (var batch in batches)
        {
            var f = ScaleBenchmark.Measure(batch);
            var reference = ScaleBenchmark.Measure(batch, lazy: false);
            table.AddRow($"{batch}", $"{f.IterationsPerS:N0}", $"{f.NsPerRequestPass:F2}", $"{f.BytesPerIteration:N1}",
                $"{reference.IterationsPerS:N0}", $"{reference.NsPerRequestPass:F1}");
            record?.Add($"scale/{batch}", ("iterations_per_s", f.IterationsPerS), ("bytes_per_iteration", f.BytesPerIteration),
                ("reference_iterations_per_s", reference.IterationsPerS));
        }
        AnsiConsole.Write(table);
        return ExitCodes.Ok;
    }

    private static void Print(string label, ServingBenchmark.Figure f) => Console.WriteLine(
        $"{label}: {f.Requests:N0} requests, {f.Iterations:N0} iterations, {f.SimulatedS:F0} s simulated in {f.WallS:F2} s wall " +
        $"= {f.SpeedUp:N0}x real time; {f.IterationsPerS:N0} iterations/s, {f.RequestsPerS:N0} requests/s; " +
        $"allocated {f.AllocatedBytes / 1048576.0:N0} MiB, peak working set {f.PeakWorkingSetBytes / 1048576.0:N0} MiB");

    private static (string, double)[] Figures(ServingBenchmark.Figure f) =>
    [
        ("speedup_x_real_time", f.SpeedUp), ("wall_s", f.WallS), ("simulated_s", f.SimulatedS), ("iterations_per_s", f.IterationsPerS),
        ("requests_per_s", f.RequestsPerS), ("allocated_bytes", f.AllocatedBytes), ("peak_working_set_bytes", f.PeakWorkingSetBytes),
    ];
}
