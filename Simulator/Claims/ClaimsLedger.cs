using System.Globalization;

namespace Simulator.Claims;

/// <summary>
/// Every quantitative claim of the paper (DESIGN section 2) against the paper configs' written results: the config and
/// point that test it, the paper's figure, ours, a verdict and, for each claim not reproduced, the mechanism and the
/// assumption that decide it, with the runs' own numbers. Reads <c>results/paper-*</c>; runs nothing.
/// </summary>
public static class ClaimsLedger
{
    public static IReadOnlyList<Claim> Build(string parent)
    {
        PaperResults R(string name) => new(Path.Combine(parent, name));
        var claims = new List<Claim>();
        claims.AddRange(Headline(R("paper-headline"), R("paper-wins-engine")));
        claims.AddRange(Applications(R("paper-throughput")));
        claims.AddRange(TailLatency(R("paper-latency"), R("paper-short-share")));
        claims.AddRange(Ablation(R("paper-ablation"), R("paper-iteration-cdf")));
        claims.AddRange(SwitchesAndOverhead(R("paper-throughput"), R("paper-overhead")));
        claims.Add(Motivation(Path.Combine(parent, "paper-motivation")));
        claims.AddRange(Ttft(R("paper-latency")));
        return claims;
    }

    private static string P(double share) => double.IsFinite(share) ? (share * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%" : "n/a";

    private static string N(double x, string format = "N0") => double.IsFinite(x) ? x.ToString(format, CultureInfo.InvariantCulture) : "n/a";

    private static IEnumerable<Claim> Headline(PaperResults r, PaperResults engine)
    {
        double T(string v) => r.Metric("decode_throughput_tokens_per_s", ("variant", v));
        double E(string host, string v) => engine.Metric("decode_throughput_tokens_per_s", ("model", "opt-2.7b"), ("engine_cpu", host), ("variant", v));
        var aligned = T("aligned");
        var why = $"decode throughput {N(aligned)} tok/s for aligned against vllm {N(T("vllm"))}, fastgen {N(T("fastgen"))}, distserve {N(T("distserve"))}. "
            + $"Mechanism: the iteration-level bubble that prefix-aware batching removes is {P(r.Metric("iteration_bubble_fraction", ("variant", "vllm")))} of vllm's "
            + $"decode-GPU time, the most alignment can win; aligned's decode GPUs are {P(r.Metric("busy_fraction_by_role.decode", ("variant", "aligned")))} busy "
            + $"and its prefill GPUs {P(r.Metric("busy_fraction_by_role.prefill", ("variant", "aligned")))}, so the 4+4 split leaves half the node on the "
            + "lighter phase, and b_max caps a decode batch's KV at 40% of the GPU. Assumptions that decide it: the attention kernel family and its "
            + "per-block rate (published rates: many thread blocks per request keep HBM saturated), the prefill:decode split, b_max's reading, "
            + "and the baselines' engine CPU time (see where-aligned-wins).";
        yield return new Claim("headline_vs_vllm", "OPT-2.7B at 95% short: decode throughput 1.32x vLLM", "paper-headline (OPT-2.7B, 95% short, 3 seeds)",
            ClaimKind.Gain, 1.32, aligned / T("vllm"), null, why);
        yield return new Claim("headline_vs_distserve", "OPT-2.7B at 95% short: decode throughput 1.35x DistServe", "paper-headline",
            ClaimKind.Gain, 1.35, aligned / T("distserve"), null,
            $"decided by DistServe's engine time: the model charges DistServe 10 ms of scheduling per pass, taken from the paper's own "
            + $"overhead claim (about 80% of its decisions over 10 ms). With vLLM v0's host time for every engine aligned decodes "
            + $"{N(E("vllm-v0-for-all", "aligned") / E("vllm-v0-for-all", "distserve"), "0.00")}x distserve's tokens, with no host time "
            + $"{N(E("none", "aligned") / E("none", "distserve"), "0.00")}x (paper-wins-engine, OPT-2.7B, 90% short); " + why,
            Independent: E("vllm-v0-for-all", "aligned") / E("vllm-v0-for-all", "distserve"));
        yield return new Claim("headline_vs_fastgen", "OPT-2.7B at 95% short: decode throughput 1.85x DeepSpeed-FastGen", "paper-headline",
            ClaimKind.Gain, 1.85, aligned / T("fastgen"), null, why);
    }

    private static IEnumerable<Claim> Applications(PaperResults r)
    {
        var best = (Ratio: double.NaN, At: "");
        foreach (var model in r.Labels("model"))
            foreach (var workload in r.Labels("workload"))
            {
                var ratio = r.Metric("decode_throughput_tokens_per_s", ("model", model), ("workload", workload), ("variant", "aligned"))
                    / r.Metric("decode_throughput_tokens_per_s", ("model", model), ("workload", workload), ("variant", "vllm"));
                if (double.IsFinite(ratio) && !(ratio <= best.Ratio)) best = (ratio, $"{model}, {workload}");
            }
        yield return new Claim("applications_max_gain", "Application workloads: up to 1.98x vLLM's decode throughput", $"paper-throughput (best point: {best.At})",
            ClaimKind.Gain, 1.98, best.Ratio, null,
            "the best of 16 model x workload points; the mechanisms and assumptions are the headline's (saturating arrivals, vLLM's kernels for both).");
        var sharegpt = r.Metric("decode_throughput_tokens_per_s", ("model", "opt-13b"), ("workload", "sharegpt-like"), ("variant", "aligned"));
        yield return new Claim("sharegpt_13b_rate", "OPT-13B on ShareGPT: aligned decodes about 700 tokens/s (baselines 350-500)",
            "paper-throughput (opt-13b, sharegpt-like, aligned)", ClaimKind.Level, 700, sharegpt, null,
            "an absolute rate follows the offered load, which the paper does not publish; ours is the node's capacity under saturating arrivals "
            + "(8 H100s, OPT-13B: a pass of a few hundred short requests takes tens of ms), so it is an order of magnitude above a rate set by arrivals.",
            Unit: "tok/s");
    }

    private static IEnumerable<Claim> TailLatency(PaperResults latency, PaperResults shares)
    {
        foreach (var (workload, paper, name) in new[] { ("azure-conv", 7.4, "Azure"), ("longbench-like", 2.1, "LongBench"), ("sharegpt-like", 1.65, "ShareGPT") })
        {
            double M(string metric, string v) => latency.Metric(metric, ("workload", workload), ("variant", v));
            var ratio = M("tpot_s.p99", "distserve") / M("tpot_s.p99", "aligned");
            var why = $"P99 TPOT {N(M("tpot_s.p99", "aligned") * 1000)} ms for aligned against {N(M("tpot_s.p99", "distserve") * 1000)} ms for distserve. "
                + $"TPOT counts the wait between prefill and the first decode step: aligned's P99 pool wait is {N(M("pool_wait_s.p99", "aligned"), "0.00")} s "
                + $"(distserve {N(M("pool_wait_s.p99", "distserve"), "0.00")} s), since batch-level scheduling holds a request in the pool until a batch "
                + $"takes it (bounded by the 5 s starvation guard). During decoding alone aligned's P99 inter-token latency is {N(M("itl_s.p99", "aligned") * 1000, "0.0")} ms "
                + $"against {N(M("itl_s.p99", "distserve") * 1000, "0.0")} ms ({N(M("itl_s.p99", "distserve") / M("itl_s.p99", "aligned"), "0.00")}x). "
                + "Assumptions that decide it: how the paper measured TPOT (with or without the pool wait), the offered load (not published; "
                + "here about 40% of aligned's capacity) and the starvation bound.";
            yield return new Claim($"tpot_p99_{workload}", $"P99 TPOT {paper}x lower than DistServe ({name})", $"paper-latency ({workload}, moderate load)",
                ClaimKind.Gain, paper, ratio, null, why);
        }
        var ratios = shares.Labels("short_share")
            .Select(s => shares.Metric("tpot_s.p99", ("short_share", s), ("variant", "distserve")) / shares.Metric("tpot_s.p99", ("short_share", s), ("variant", "aligned")))
            .Where(double.IsFinite).ToList();
        yield return new Claim("tpot_p99_synthetic", "P99 TPOT 1.74-3.05x lower than DistServe on the synthetic mixes",
            "paper-short-share (70-95% short, saturating, 3 seeds)", ClaimKind.Gain, 1.74, ratios.Count > 0 ? ratios.Min() : double.NaN, null,
            "under saturating arrivals both queue; aligned's TPOT carries its pool wait (batch-level scheduling), distserve's its decode queue. "
            + "Assumptions: TPOT's definition (with the pool wait) and the load.", PaperHigh: 3.05, OursHigh: ratios.Count > 0 ? ratios.Max() : double.NaN);
    }

    private static IEnumerable<Claim> Ablation(PaperResults ablation, PaperResults cdf)
    {
        double M(string metric, string v) => ablation.Metric(metric, ("workload", "azure-conv"), ("variant", v));
        double T(string v) => M("decode_throughput_tokens_per_s", v);
        var noPrefetch = T("no-prefetch") / T("aligned") - 1;
        var noPrefix = T("no-prefetch-no-prefix") / T("no-prefetch") - 1;
        yield return new Claim("ablation_no_prefetch", "Ablation on Azure: without prefetch -14.73% throughput", "paper-ablation (azure-conv)",
            ClaimKind.Change, -0.1473, noPrefetch, null,
            $"with prefetch the candidate batch waits in the prefill GPU's HBM and crosses NVLink at the switch; without it the batch is fetched "
            + $"from the host pool only when the switch is due, over PCIe 5.0 (about 55 GB/s per GPU). The decode GPUs idle for pulled KV "
            + $"{P(M("batch_bubble_fraction", "aligned"))} of their time with prefetch and {P(M("batch_bubble_fraction", "no-prefetch"))} without: "
            + "the old batch's remainder keeps running while the next one is fetched, so the loss is in those passes, run with a batch already "
            + $"below half its size, most plausibly; switches are {P(M("batch_switch_iteration_share", "aligned"))} of decode passes. "
            + "Assumptions: the switch rule (0.5 of the batch left), b_max, the starvation guard's forced switches.");
        var prefixShare = PaperResults.DecodePassShareUnder(cdf.RunDir(("workload", "azure-conv"), ("batching", "prefix-aware")), 0.030);
        var fcfsShare = PaperResults.DecodePassShareUnder(cdf.RunDir(("workload", "azure-conv"), ("batching", "fcfs-from-pool")), 0.030);
        var vllmShare = PaperResults.DecodePassShareUnder(cdf.RunDir(("workload", "azure-conv"), ("batching", "vllm-fcfs")), 0.030);
        yield return new Claim("ablation_no_prefix", "Ablation on Azure: without prefetch and prefix-aware batching a further -28.51%", "paper-ablation (azure-conv)",
            ClaimKind.Change, -0.2851, noPrefix, null,
            $"the iteration-level bubble alignment can remove is {P(M("iteration_bubble_fraction", "no-prefetch-no-prefix"))} of the decode GPUs' time "
            + $"with FCFS from the pool and {P(M("iteration_bubble_fraction", "no-prefetch"))} with prefix-aware batches: under the published kernel "
            + "rates a batch's many thread blocks keep HBM busy while a long request's run. Decode passes under 30 ms on Azure-conv: "
            + $"{P(prefixShare)} prefix-aware, {P(fcfsShare)} FCFS from the pool. Assumptions: the kernel family and its per-block rate "
            + "(where-aligned-wins varies them).");
        yield return new Claim("iterations_under_30ms_prefix", "With prefix-aware batching over 90% of decode iterations under 30 ms",
            "paper-iteration-cdf (azure-conv, prefix-aware)", ClaimKind.AtLeast, 0.90, prefixShare, prefixShare > fcfsShare,
            $"aligned's decode passes carry up to b_max = 40% of the GPU's KV, more while an old batch's remainder runs beside a new one, and under "
            + "saturating arrivals (50x the trace's rate) every pooled request soon passes the 5 s starvation bound, so batches join oldest first "
            + $"and fill to b_max; vLLM's FCFS keeps {P(vllmShare)} under 30 ms. Assumptions: b_max and its reading, the load, the starvation bound.");
        yield return new Claim("iterations_under_30ms_fcfs", "With FCFS under 10% of decode iterations under 30 ms",
            "paper-iteration-cdf (azure-conv, FCFS from the pool)", ClaimKind.AtMost, 0.10, fcfsShare, fcfsShare < prefixShare,
            $"FCFS from the same pool under the same b_max keeps {P(fcfsShare)} of passes under 30 ms; vLLM's FCFS continuous batching, whose "
            + $"batches are not capped, keeps {P(vllmShare)}. Assumption: which FCFS the paper's figure shows (FCFS within AlignedServe, or vLLM).");
    }

    private static IEnumerable<Claim> SwitchesAndOverhead(PaperResults throughput, PaperResults overhead)
    {
        foreach (var (workload, paper, name) in new[] { ("sharegpt-like", 0.0861, "ShareGPT"), ("longbench-like", 0.1237, "LongBench") })
        {
            double M(string metric) => throughput.Metric(metric, ("model", "opt-13b"), ("workload", workload), ("variant", "aligned"));
            yield return new Claim($"switch_share_{workload}", $"Batch-switch iterations {paper * 100:0.00}% of iterations ({name})",
                $"paper-throughput (opt-13b, {workload}, aligned)", ClaimKind.Level, paper, M("batch_switch_iteration_share"), null,
                $"counted as the paper counts them, passes that bring a new batch in; passes where two batches' members run together are "
                + $"{P(M("batch_coexist_iteration_share"))}. How often a batch switches follows the switch threshold (0.5 of the batch left, an "
                + "assumption: the paper's rule is not public), the candidate requests buffer's refills and the starvation guard's forced switches.",
                Unit: "%");
        }
        var alignedRun = overhead.RunDir(("workload", "azure-conv"), ("variant", "aligned"));
        var distRun = overhead.RunDir(("workload", "azure-conv"), ("variant", "distserve"));
        var under5 = 1 - PaperResults.DecisionShareOver(alignedRun, 5000);
        var distOver10 = PaperResults.DecisionShareOver(distRun, 10000);
        yield return new Claim("decisions_under_5ms", "Over 95% of AlignedServe's scheduling decisions under 5 ms", "paper-overhead (azure-conv, aligned; wall-clock)",
            ClaimKind.AtLeast, 0.95, under5, null, "measured wall-clock time of the policy's own decisions on the simulating machine.");
        yield return new Claim("distserve_decisions_over_10ms", "About 80% of DistServe's scheduling decisions over 10 ms", "paper-overhead (azure-conv, distserve; wall-clock)",
            ClaimKind.AtLeast, 0.80, distOver10, null,
            $"our DistServe decision is a FCFS pull, microseconds of wall-clock time; the paper's figure plausibly counts DistServe's engine "
            + "(its Python scheduler driving workers through Ray), so the model charges DistServe 10 ms of host time per pass from this very "
            + $"claim (its passes over 10 ms of host time: {P(PaperResults.HostTimeShareOver(distRun, 0.010))}, by construction). "
            + "Assumption: the baselines' engine CPU time (where-aligned-wins shows how much of aligned's gain over distserve it decides).");
    }

    private static Claim Motivation(string dir)
    {
        var file = Path.Combine(dir, "iteration_latency.csv");
        var increase = double.NaN;
        var range = "";
        if (File.Exists(file))
        {
            var rows = Plots.ResultsTable.ReadRows(file).Where(r => Math.Abs(Plots.ResultsTable.Number(r["long_share"]) - 0.0625) < 1e-9).ToList();
            var byKernel = rows.ToDictionary(r => r["kernel"], r => Plots.ResultsTable.Number(r["increase_over_no_long"]));
            increase = byKernel.TryGetValue("paged_v1", out var v1) ? v1 : byKernel.Values.DefaultIfEmpty(double.NaN).First();
            range = string.Join(", ", byKernel.Select(kv => $"{kv.Key} {P(kv.Value)}"));
        }
        return new Claim("motivation_6_25_long", "6.25% long requests in a batch raise decode iteration latency by about 61%",
            "paper-motivation (OPT-13B, 32 requests, 512 vs 8,192 tokens, vLLM's v1 kernel)", ClaimKind.Change, 0.61, increase, null,
            $"by kernel family: {range}. The dense part of a pass (weights streamed once) is most of it at batch 32, and the published per-block "
            + "rates let a long request's blocks run beside the others; the paper's batch and lengths are not published. Assumptions: the kernel "
            + "family, its per-block rate, the batch size and lengths.");
    }

    private static IEnumerable<Claim> Ttft(PaperResults latency)
    {
        foreach (var (workload, paper, name) in new[] { ("sharegpt-like", 1.49, "ShareGPT"), ("longbench-like", 2.54, "LongBench") })
        {
            double M(string metric) => latency.Metric(metric, ("workload", workload), ("variant", "aligned"));
            yield return new Claim($"ttft_mean_{workload}", $"Mean TTFT {paper} s ({name})", $"paper-latency ({workload}, aligned, moderate load)",
                ClaimKind.Level, paper, M("ttft_s.mean"), null,
                $"TTFT here ends at the first token, which the prefill GPU emits; the pool wait that follows (mean {N(M("pool_wait_s.mean"), "0.00")} s) is not in it. "
                + "If the paper's TTFT ends at the first decode step, it would be about TTFT + pool wait. Assumptions: TTFT's end point and the offered load.",
                Unit: "s");
        }
        var maxTtft = latency.Labels("workload").Select(w => PaperResults.RequestMax(latency.RunDir(("workload", w), ("variant", "aligned-no-guard")), "ttft_s"))
            .Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max();
        var maxWait = latency.Labels("workload").Select(w => latency.Metric("pool_wait_max_s", ("workload", w), ("variant", "aligned-no-guard")))
            .Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max();
        var guarded = latency.Labels("workload").Select(w => latency.Metric("pool_wait_max_s", ("workload", w), ("variant", "aligned")))
            .Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max();
        yield return new Claim("ttft_max_without_guard", "Maximum TTFT about 30 s without the starvation handling", "paper-latency (aligned-no-guard, all workloads)",
            ClaimKind.Level, 30, maxTtft, null,
            $"without the guard the longest wait between prefill and the first decode step is {N(maxWait, "0.0")} s (with it, {N(guarded, "0.00")} s); "
            + "TTFT itself ends at prefill here, so the guard does not change it. Assumption: TTFT's end point.", Unit: "s");
    }
}
