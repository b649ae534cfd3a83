using System.Text.Json;
using Simulator.Cli;
using Simulator.Output;
using Simulator.Tracing;

namespace Simulator.Tests.Tracing;

/// <summary>trace.json: its format, its tracks, its requests, its bounds, a golden file, and no trace costs nothing.</summary>
public sealed class TraceTests
{
    private static string Disaggregated => Path.Combine(AppContext.BaseDirectory, "Fixtures", "trace", "disaggregated.yaml");

    private static TraceFile RunTraced(TempDir dir, string config, params string[] extra)
    {
        var outDir = Path.Combine(dir.Path, "out");
        Assert.Equal(ExitCodes.Ok, CliApp.Start(["run", config, "--out", outDir, .. extra]));
        return TraceFile.Read(Path.Combine(outDir, TraceWriter.FileName));
    }

    private static TraceFile RunQuickstart(TempDir dir, params string[] extra) =>
        RunTraced(dir, RepoPaths.Quickstart, ["--set", "workload.num_requests=200", "--set", "metrics.trace.max_events=1000000", .. extra]);

    [Fact]
    public void Trace_Should_Follow_The_Trace_Event_Format_When_A_Run_Asks_For_It()
    {
        using var dir = new TempDir();

        var trace = RunTraced(dir, Disaggregated);

        Assert.Empty(trace.FormatProblems());
        Assert.Equal("ms", trace.Doc.RootElement.GetProperty("displayTimeUnit").GetString());
        Assert.Equal(0, trace.OtherData.GetProperty("left_out_over_cap").GetProperty("passes").GetInt32());
        // One thread per GPU, named with its role; the KV pool's links; counters of each kind.
        var threads = trace.Phase("M").Where(e => e.GetProperty("name").GetString() == "thread_name")
            .Select(e => e.GetProperty("args").GetProperty("name").GetString()).ToList();
        Assert.Contains("gpu0 (prefill)", threads);
        Assert.Contains("gpu1 (decode)", threads);
        Assert.Contains("link gpu0->host0", threads);
        Assert.Contains("link host0->gpu1", threads);
        var counters = trace.Phase("C").Select(e => e.GetProperty("name").GetString()).ToHashSet();
        Assert.Superset(new HashSet<string?> { "gpu0 KV blocks used", "gpu1 KV blocks used", "gpu1 running batch size", "host0 pool bytes" }, counters);
        var pass = trace.Phase("X").First(e => e.GetProperty("cat").GetString() == "pass").GetProperty("args");
        foreach (var field in new[] { "kind", "batch_size", "new_tokens", "longest_kv", "batch_switch" }) Assert.True(pass.TryGetProperty(field, out _), field);
        var copy = trace.Phase("X").First(e => e.GetProperty("cat").GetString() == "transfer").GetProperty("args");
        foreach (var field in new[] { "bytes", "from", "to", "request" }) Assert.True(copy.TryGetProperty(field, out _), field);
    }

    [Fact]
    public void Slices_Should_Not_Overlap_On_A_Track_And_Request_Phases_Should_Nest_In_Their_Request()
    {
        using var dir = new TempDir();

        var trace = RunQuickstart(dir);

        Assert.Empty(trace.FormatProblems());
        Assert.Empty(trace.OverlappingSlices());
        Assert.Empty(trace.AsyncNestingProblems());
    }

    [Fact]
    public void Every_Request_Should_Appear_Once_With_Its_Phases_In_Order()
    {
        using var dir = new TempDir();
        using var dir2 = new TempDir();

        var colocated = RunQuickstart(dir);
        var disaggregated = RunTraced(dir2, Disaggregated);

        foreach (var (trace, count) in new[] { (colocated, 200), (disaggregated, 12) })
        {
            var requests = trace.Phase("b").Where(e => e.GetProperty("name").GetString()!.StartsWith("request ", StringComparison.Ordinal))
                .Select(e => e.GetProperty("id").GetInt64()).ToList();
            Assert.Equal(Enumerable.Range(0, count).Select(i => (long)i), requests.Order());
        }
        Assert.Empty(disaggregated.AsyncNestingProblems());
        // Disaggregated through the host pool: each request is queued (or not) and prefills; unless its only token came from
        // the prefill, it then waits in the pool, is pulled to the decode GPU and decodes (from its second token on).
        var lives = disaggregated.Phase("b").GroupBy(e => e.GetProperty("id").GetInt64()).Select(g => (
            Output: g.First().GetProperty("args").GetProperty("output_tokens").GetInt32(),
            Phases: string.Join(",", g.Select(e => e.GetProperty("name").GetString()).Skip(1).Where(n => n != "queued")))).ToList();
        Assert.All(lives, l => Assert.Equal(l.Output == 1 ? "prefill" : "prefill,pool wait,KV pull,decode", l.Phases));
        Assert.Contains(lives, l => l.Output == 1);
        Assert.Contains(lives, l => l.Output > 1);
    }

    /// <summary>Set UPDATE_GOLDEN=1 to rewrite the golden file after an intended change of behaviour.</summary>
    [Fact]
    public void Small_Trace_Should_Match_The_Golden_File()
    {
        using var dir = new TempDir();
        RunTraced(dir, Disaggregated);
        var actual = File.ReadAllText(Path.Combine(dir.Path, "out", TraceWriter.FileName));
        var golden = RepoPaths.Golden("trace-disaggregated.json");

        if (Environment.GetEnvironmentVariable("UPDATE_GOLDEN") == "1") File.WriteAllText(golden, actual);

        Assert.True(File.Exists(golden), $"golden file missing: run with UPDATE_GOLDEN=1 to create {golden}");
        Assert.Equal(File.ReadAllText(golden), actual);
    }

    [Fact]
    public void Event_Cap_Should_Cut_The_Trace_At_A_Time_And_Say_What_Was_Left_Out()
    {
        using var dir = new TempDir();

        var trace = RunQuickstart(dir, "--set", "metrics.trace.max_events=2000");

        var kept = trace.Events.Count(e => e.GetProperty("ph").GetString() != "M");
        Assert.InRange(kept, 1500, 2000);
        Assert.Equal(kept, trace.OtherData.GetProperty("events").GetInt32());
        var cut = trace.OtherData.GetProperty("cap_reached_at_s").GetDouble();
        Assert.True(trace.OtherData.GetProperty("left_out_over_cap").GetProperty("requests").GetInt32() > 0);
        Assert.True(trace.OtherData.GetProperty("left_out_over_cap").GetProperty("passes").GetInt32() > 0);
        // Complete up to the cut: nothing kept ends after it, and every kept request is whole.
        Assert.All(trace.Phase("X"), e => Assert.True(TraceFile.Ns(e, "ts") + TraceFile.Ns(e, "dur") <= (long)Math.Round(cut * 1e9)));
        Assert.Empty(trace.AsyncNestingProblems());
        Assert.Contains("trace.json left out", File.ReadAllText(Path.Combine(dir.Path, "out", ResultsWriter.NotesFile)));
    }

    [Fact]
    public void Time_Window_Should_Keep_Only_What_Overlaps_It()
    {
        using var dir = new TempDir();

        var trace = RunQuickstart(dir, "--set", "metrics.trace.from_s=5", "--set", "metrics.trace.to_s=8");

        long from = 5_000_000_000, to = 8_000_000_000;
        Assert.NotEmpty(trace.Phase("X"));
        Assert.All(trace.Phase("X"), e => Assert.True(TraceFile.Ns(e, "ts") < to && TraceFile.Ns(e, "ts") + TraceFile.Ns(e, "dur") > from));
        Assert.All(trace.Phase("C"), e => Assert.InRange(TraceFile.Ns(e, "ts"), from, to - 1));
        var outside = trace.OtherData.GetProperty("left_out_outside_window");
        Assert.True(outside.GetProperty("requests").GetInt32() > 0 && outside.GetProperty("passes").GetInt32() > 0);
        Assert.Empty(trace.AsyncNestingProblems());
    }

    [Fact]
    public void Tracing_Should_Leave_Every_Other_Output_Byte_Identical()
    {
        using var dir = new TempDir();
        var plain = Path.Combine(dir.Path, "plain");
        var traced = Path.Combine(dir.Path, "traced");
        Assert.Equal(ExitCodes.Ok, CliApp.Start(["run", RepoPaths.Quickstart, "--out", plain, "--set", "workload.num_requests=200"]));
        Assert.Equal(ExitCodes.Ok, CliApp.Start(["run", RepoPaths.Quickstart, "--out", traced, "--set", "workload.num_requests=200", "--set", "metrics.trace.max_events=1000000"]));

        Assert.False(File.Exists(Path.Combine(plain, TraceWriter.FileName)));
        // The resolved config (and report.html, which shows it and links trace.json) differ by the trace section alone
        var skip = ResultsWriter.WallClockFiles.Append(ResultsWriter.ResolvedConfigFile).Append(Simulator.Reports.HtmlReport.File).ToHashSet();
        foreach (var file in Directory.EnumerateFiles(plain, "*", SearchOption.AllDirectories).Where(f => !skip.Contains(Path.GetFileName(f))))
            Assert.True(File.ReadAllBytes(file).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(traced, Path.GetRelativePath(plain, file)))), file);
        Assert.Equal(
            Directory.EnumerateFiles(plain, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(plain, f)).Append(TraceWriter.FileName).Order(),
            Directory.EnumerateFiles(traced, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(traced, f)).Order());
    }

    [Fact]
    public void Window_That_Closes_Before_It_Opens_Should_Be_Refused_With_Exit_2()
    {
        using var dir = new TempDir();
        var outDir = Path.Combine(dir.Path, "out");

        var code = CliApp.Start(["run", RepoPaths.Quickstart, "--out", outDir, "--set", "metrics.trace.from_s=5", "--set", "metrics.trace.to_s=2"]);

        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.False(Directory.Exists(outDir));
    }
}
