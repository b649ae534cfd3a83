using System.Globalization;
using System.Text;
using System.Text.Json;
using Simulator.Metrics;
using Simulator.Specs;

namespace Simulator.Tracing;

/// <summary>
/// Writes trace.json in the Chrome trace-event format's JSON object form (the "Trace Event Format" document of the
/// Chromium/catapult project), which Perfetto and chrome://tracing open: one process per node with a thread per GPU
/// (each pass a complete event, <c>ph: X</c>) and per link lane (each KV copy a complete event), its counters
/// (<c>ph: C</c>), and a "requests" process with each request's life as nestable async events (<c>ph: b/e</c>, one
/// id per request, phases nested in the request's slice; preemptions as <c>ph: n</c>). Timestamps are microseconds
/// of simulated time with three decimals (the simulator's nanoseconds, exactly). Concurrent copies on one link share
/// its bandwidth, so they overlap in time: each goes to the link's first lane free at its start, and slices on one
/// thread never overlap. Events are sorted (time, process, thread, order of writing), one per line: the same run
/// gives the same bytes.
/// </summary>
public static class TraceWriter
{
    public const string FileName = "trace.json";

    private const int LinkTidBase = 1000;

    public static void Write(string path, TraceRecorder trace, string experiment, string policy, long seed)
    {
        var events = new List<(long Ts, int Pid, int Tid, string Json)>();
        var metadata = new List<string>();
        var requestsPid = trace.Nodes + 1;
        for (var n = 0; n < trace.Nodes; n++)
        {
            metadata.Add(Meta("process_name", n + 1, 0, "name", Str($"node{n}")));
            metadata.Add(Meta("process_sort_index", n + 1, 0, "sort_index", Int(n)));
        }
        metadata.Add(Meta("process_name", requestsPid, 0, "name", Str("requests")));
        metadata.Add(Meta("process_sort_index", requestsPid, 0, "sort_index", Int(trace.Nodes)));
        foreach (var g in trace.Gpus)
        {
            metadata.Add(Meta("thread_name", g.Node + 1, g.LocalIndex + 1, "name", Str($"gpu{g.Gpu} ({g.RoleName})")));
            metadata.Add(Meta("thread_sort_index", g.Node + 1, g.LocalIndex + 1, "sort_index", Int(g.LocalIndex)));
        }

        foreach (var p in trace.Passes)
        {
            var g = trace.Gpus[p.Gpu];
            var kind = p.PrefillSeqs == 0 ? "decode" : p.PrefillSeqs == p.Seqs ? "prefill" : "mixed";
            var args = $"{{\"kind\":{Str(kind)},\"batch_size\":{Int(p.Seqs)},\"prefill_requests\":{Int(p.PrefillSeqs)},\"new_tokens\":{Int(p.NewTokens)},"
                       + $"\"kv_tokens\":{Int(p.KvTokensSum)},\"longest_kv\":{Int(p.KvTokensMax)},\"batch_switch\":{(p.BatchSwitch ? "true" : "false")},"
                       + $"\"preempted\":{Int(p.Preempted)},\"bubble_us\":{Us(p.BubbleNs)}}}";
            events.Add((p.StartNs, g.Node + 1, g.LocalIndex + 1, Complete(kind, "pass", p.StartNs, p.DurationNs, g.Node + 1, g.LocalIndex + 1, args)));
        }

        WriteLinks(trace, events, metadata);

        foreach (var c in trace.Counters)
        {
            var name = trace.SeriesName(c.Series, out var unit);
            var pid = trace.SeriesNode(c.Series) + 1;
            events.Add((c.TimeNs, pid, 0,
                $"{{\"name\":{Str(name)},\"ph\":\"C\",\"ts\":{Us(c.TimeNs)},\"pid\":{Int(pid)},\"tid\":0,\"args\":{{{Str(unit)}:{Int(c.Value)}}}}}"));
        }

        var kept = trace.Requests.Select(r => r.Id).ToHashSet();
        foreach (var r in trace.Requests)
        {
            var id = Int(r.Id);
            string Async(string ph, string name, long ns, string args = "") =>
                $"{{\"name\":{Str(name)},\"cat\":\"request\",\"ph\":\"{ph}\",\"id\":{id},\"ts\":{Us(ns)},\"pid\":{Int(requestsPid)},\"tid\":0{args}}}";
            var request = trace.RequestSpec(r.Id);
            var spec = $",\"args\":{{\"request\":{id},\"prompt_tokens\":{Int(request.PromptTokens)},\"output_tokens\":{Int(request.OutputTokens)}}}";
            var name = $"request {r.Id}";
            events.Add((r.ArrivalNs, requestsPid, 0, Async("b", name, r.ArrivalNs, spec)));
            foreach (var phase in r.Phases())
            {
                events.Add((phase.StartNs, requestsPid, 0, Async("b", phase.Name, phase.StartNs)));
                events.Add((phase.EndNs, requestsPid, 0, Async("e", phase.Name, phase.EndNs)));
            }
            events.Add((r.FinishNs, requestsPid, 0, Async("e", name, r.FinishNs)));
        }
        foreach (var (request, ns) in trace.Preemptions.Where(p => kept.Contains(p.Request)))
            events.Add((ns, requestsPid, 0,
                $"{{\"name\":\"preempted\",\"cat\":\"request\",\"ph\":\"n\",\"id\":{Int(request)},\"ts\":{Us(ns)},\"pid\":{Int(requestsPid)},\"tid\":0}}"));

        // A stable sort: events at one time keep the order they were written in (a request's phase ends before the next begins).
        var ordered = events.Select((e, i) => (e, i)).OrderBy(x => x.e.Ts).ThenBy(x => x.e.Pid).ThenBy(x => x.e.Tid).ThenBy(x => x.i).Select(x => x.e.Json);

        using var writer = new StreamWriter(path, false, new UTF8Encoding(false)) { NewLine = "\n" };
        writer.Write("{\"traceEvents\":[\n");
        var first = true;
        foreach (var line in metadata.Concat(ordered))
        {
            if (!first) writer.Write(",\n");
            writer.Write(line);
            first = false;
        }
        writer.Write("\n],\n\"displayTimeUnit\":\"ms\",\n\"otherData\":");
        writer.Write(OtherData(trace, experiment, policy, seed));
        writer.Write("}\n");
    }

    /// <summary>Each link's copies (the link named by its endpoints, in the direction of the copy) on lanes that never overlap.</summary>
    private static void WriteLinks(TraceRecorder trace, List<(long, int, int, string)> events, List<string> metadata)
    {
        var byLink = trace.Transfers.GroupBy(t => (Node: NodeOf(trace, t), t.From, t.To)).OrderBy(g => g.Key.Node).ThenBy(g => g.Key.From, StringComparer.Ordinal)
            .ThenBy(g => g.Key.To, StringComparer.Ordinal);
        var nextTid = new Dictionary<int, int>();
        foreach (var link in byLink)
        {
            var pid = link.Key.Node + 1;
            var laneEnds = new List<long>();
            var laneTids = new List<int>();
            foreach (var t in link.OrderBy(t => t.StartNs).ThenBy(t => t.EndNs).ThenBy(t => t.Request))
            {
                var lane = laneEnds.FindIndex(end => end <= t.StartNs);
                if (lane < 0)
                {
                    lane = laneEnds.Count;
                    laneEnds.Add(0);
                    var tid = nextTid.GetValueOrDefault(pid, LinkTidBase);
                    nextTid[pid] = tid + 1;
                    laneTids.Add(tid);
                    var name = $"link {link.Key.From}->{link.Key.To}{(lane > 0 ? $" lane {lane + 1}" : "")}";
                    metadata.Add(Meta("thread_name", pid, tid, "name", Str(name)));
                    metadata.Add(Meta("thread_sort_index", pid, tid, "sort_index", Int(tid)));
                }
                laneEnds[lane] = t.EndNs;
                var args = $"{{\"request\":{Int(t.Request)},\"bytes\":{Int(t.Bytes)},\"from\":{Str(t.From)},\"to\":{Str(t.To)}}}";
                events.Add((t.StartNs, pid, laneTids[lane], Complete(t.Kind, "transfer", t.StartNs, t.EndNs - t.StartNs, pid, laneTids[lane], args)));
            }
        }
    }

    /// <summary>A copy's node: its GPU endpoint's (every copy has one), or its host pool's.</summary>
    private static int NodeOf(TraceRecorder trace, TransferRecord t)
    {
        foreach (var end in new[] { t.From, t.To })
            if (end.StartsWith("gpu", StringComparison.Ordinal) && int.TryParse(end.AsSpan(3), NumberStyles.None, CultureInfo.InvariantCulture, out var gpu))
                return trace.Gpus[gpu].Node;
        foreach (var end in new[] { t.From, t.To })
            if (end.StartsWith("host", StringComparison.Ordinal) && int.TryParse(end.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out var node))
                return node;
        throw new InvalidOperationException($"Transfer of request {t.Request} from '{t.From}' to '{t.To}' names no GPU and no host pool.");
    }

    private static string OtherData(TraceRecorder trace, string experiment, string policy, long seed)
    {
        string Counts(Func<TraceRecorder.Item, int> count) => "{" + string.Join(",", Enum.GetValues<TraceRecorder.Item>()
            .Select(i => $"{Str(TraceRecorder.ItemName(i).Replace(' ', '_'))}:{Int(count(i))}")) + "}";
        var c = trace.Config;
        return "{" + string.Join(",\n",
            $"\"generator\":\"AlignedServe-Sim\"",
            $"\"time\":\"ts and dur are microseconds of simulated time\"",
            $"\"experiment\":{Str(experiment)}",
            $"\"policy\":{Str(policy)}",
            $"\"seed\":{Int(seed)}",
            $"\"window_from_s\":{Num(c.FromS)}",
            $"\"window_to_s\":{(c.ToS is { } to ? Num(to) : "null")}",
            $"\"max_events\":{Int(c.MaxEvents)}",
            $"\"events\":{Int(trace.Events)}",
            $"\"cap_reached_at_s\":{(trace.CutNs is { } cut ? Num(Units.Seconds(cut)) : "null")}",
            $"\"left_out_outside_window\":{Counts(trace.OutsideWindow)}",
            $"\"left_out_over_cap\":{Counts(trace.OverCap)}",
            $"\"left_out\":{Str(trace.LeftOut() ?? "nothing")}") + "}";
    }

    /// <summary>A complete event (<c>ph: X</c>).</summary>
    private static string Complete(string name, string cat, long startNs, long durationNs, int pid, int tid, string args) =>
        $"{{\"name\":{Str(name)},\"cat\":{Str(cat)},\"ph\":\"X\",\"ts\":{Us(startNs)},\"dur\":{Us(durationNs)},\"pid\":{Int(pid)},\"tid\":{Int(tid)},\"args\":{args}}}";

    private static string Meta(string name, int pid, int tid, string key, string value) =>
        $"{{\"name\":{Str(name)},\"ph\":\"M\",\"pid\":{Int(pid)},\"tid\":{Int(tid)},\"args\":{{{Str(key)}:{value}}}}}";

    /// <summary>Nanoseconds as microseconds with three decimals, exactly.</summary>
    private static string Us(long ns) => ns < 0
        ? "-" + Us(-ns)
        : string.Create(CultureInfo.InvariantCulture, $"{ns / 1000}.{ns % 1000:000}");

    private static string Int(long x) => x.ToString(CultureInfo.InvariantCulture);

    private static string Num(double x) => x.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>A JSON string; quotes, backslashes and control characters escaped, the rest (such as '>') as it is.</summary>
    private static string Str(string s) => JsonSerializer.Serialize(s, Relaxed);

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
