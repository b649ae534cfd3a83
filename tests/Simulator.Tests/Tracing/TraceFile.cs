using System.Text.Json;

namespace Simulator.Tests.Tracing;

/// <summary>
/// A trace.json read back and checked against the Trace Event Format document (JSON object form): the fields each
/// phase requires, complete events that do not overlap on a thread, nestable async events that nest per (cat, id).
/// </summary>
internal sealed class TraceFile
{
    private TraceFile(JsonDocument doc) => Doc = doc;

    public JsonDocument Doc { get; }

    public IReadOnlyList<JsonElement> Events => Doc.RootElement.GetProperty("traceEvents").EnumerateArray().ToList();

    public JsonElement OtherData => Doc.RootElement.GetProperty("otherData");

    public IEnumerable<JsonElement> Phase(string ph) => Events.Where(e => e.GetProperty("ph").GetString() == ph);

    public static TraceFile Read(string path) => new(JsonDocument.Parse(File.ReadAllText(path)));

    /// <summary>Every problem with the file's format, or none.</summary>
    public IEnumerable<string> FormatProblems()
    {
        var root = Doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) yield return "the root is not a JSON object";
        if (!root.TryGetProperty("traceEvents", out var list) || list.ValueKind != JsonValueKind.Array) yield return "no traceEvents array";
        if (root.TryGetProperty("displayTimeUnit", out var unit) && unit.GetString() is not ("ms" or "ns")) yield return "displayTimeUnit is not ms or ns";
        var index = 0;
        foreach (var e in Events)
        {
            var ph = e.TryGetProperty("ph", out var p) ? p.GetString() : null;
            string[] required = ph switch
            {
                "X" => ["name", "ts", "dur", "pid", "tid"],
                "b" or "e" or "n" => ["name", "cat", "id", "ts", "pid"],
                "C" => ["name", "ts", "pid", "args"],
                "M" => ["name", "pid", "args"],
                _ => ["?"],
            };
            foreach (var field in required.Where(f => !e.TryGetProperty(f, out _)))
                yield return $"event {index} (ph {ph ?? "missing"}) has no '{field}'";
            foreach (var field in new[] { "ts", "dur" })
                if (e.TryGetProperty(field, out var t) && (t.ValueKind != JsonValueKind.Number || t.GetDouble() < 0))
                    yield return $"event {index}: '{field}' is not a non-negative number";
            if (ph == "C" && e.TryGetProperty("args", out var args) && args.EnumerateObject().Any(a => a.Value.ValueKind != JsonValueKind.Number))
                yield return $"event {index}: a counter's args must be numbers";
            if (ph == "M" && e.GetProperty("name").GetString() is "process_name" or "thread_name" && !e.GetProperty("args").TryGetProperty("name", out _))
                yield return $"event {index}: a name metadata event has no args.name";
            index++;
        }
    }

    /// <summary>Complete events on one thread that overlap, as (pid, tid, ts) of the later one.</summary>
    public IEnumerable<string> OverlappingSlices() =>
        Phase("X").GroupBy(e => (Pid: e.GetProperty("pid").GetInt32(), Tid: e.GetProperty("tid").GetInt32())).SelectMany(track =>
        {
            var slices = track.Select(e => (Start: Ns(e, "ts"), End: Ns(e, "ts") + Ns(e, "dur"))).OrderBy(s => s.Start).ToList();
            return slices.Zip(slices.Skip(1)).Where(pair => pair.Second.Start < pair.First.End)
                .Select(pair => $"pid {track.Key.Pid} tid {track.Key.Tid}: slice at {pair.Second.Start} ns starts before {pair.First.End} ns");
        });

    /// <summary>Nesting problems of the async events: per (cat, id), in file order, each end closes the innermost open begin of its name.</summary>
    public IEnumerable<string> AsyncNestingProblems()
    {
        var open = new Dictionary<(string?, long), Stack<(string Name, long Ts)>>();
        foreach (var e in Events)
        {
            var ph = e.GetProperty("ph").GetString();
            if (ph is not ("b" or "e")) continue;
            var key = (e.GetProperty("cat").GetString(), e.GetProperty("id").GetInt64());
            var name = e.GetProperty("name").GetString()!;
            var ts = Ns(e, "ts");
            var stack = open.TryGetValue(key, out var s) ? s : open[key] = new();
            if (ph == "b")
            {
                if (stack.Count > 0 && ts < stack.Peek().Ts) yield return $"{key}: '{name}' begins before its parent '{stack.Peek().Name}'";
                stack.Push((name, ts));
            }
            else if (stack.Count == 0 || stack.Peek().Name != name) yield return $"{key}: '{name}' ends but the innermost open slice is '{(stack.Count > 0 ? stack.Peek().Name : "none")}'";
            else if (stack.Pop().Ts > ts) yield return $"{key}: '{name}' ends before it begins";
        }
        foreach (var (key, stack) in open.Where(o => o.Value.Count > 0)) yield return $"{key}: '{stack.Peek().Name}' never ends";
    }

    /// <summary>Timestamps in integer nanoseconds (the file's microseconds have three decimals).</summary>
    public static long Ns(JsonElement e, string field) => (long)Math.Round(e.GetProperty(field).GetDouble() * 1000);
}
