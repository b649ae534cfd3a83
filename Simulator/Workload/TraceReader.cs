using System.Globalization;
using System.Text.Json;
using Simulator.Config;
using Simulator.Specs;

namespace Simulator.Workload;

/// <summary>One usable trace row: its line, arrival in 100 ns ticks (null when the format has none) and lengths.</summary>
public readonly record struct TraceRow(int Line, long? ArrivalTicks, int PromptTokens, int OutputTokens);

/// <summary>What reading a trace file found.</summary>
/// <param name="BlankLines">Empty or whitespace-only lines, skipped (and reported).</param>
public sealed record TraceRead(IReadOnlyList<TraceRow> Rows, int SkippedMalformed, int DroppedFailed, int BlankLines = 0);

/// <summary>
/// Reads the trace formats of <see cref="TraceFormat"/>. Nothing thrown inside escapes as anything but a
/// <see cref="ConfigException"/>: a malformed line stops the read with <c>file:line:column</c>, the column's
/// name, what was expected and what was found, or is skipped and counted under <c>on_malformed: skip</c>.
/// </summary>
public static class TraceReader
{
    private const string Field = "workload.path";

    /// <summary>A problem with one row, at a character column of its line.</summary>
    private sealed class MalformedRow(int column, string message) : Exception(message)
    {
        public int Column { get; } = column;
    }

    public static TraceRead Read(TraceWorkload trace)
    {
        if (!File.Exists(trace.Path)) throw new ConfigException(null, Field, $"trace file '{trace.Path}' does not exist");
        try
        {
            return trace.Format == TraceFormat.Mooncake ? ReadJsonLines(trace) : ReadCsv(trace);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException(null, Field, $"cannot read trace file '{trace.Path}': {e.Message}");
        }
    }

    private static (string? Time, string Prompt, string Output) Columns(TraceFormat format) => format switch
    {
        TraceFormat.Azure2023 or TraceFormat.Azure2024 => ("TIMESTAMP", "ContextTokens", "GeneratedTokens"),
        TraceFormat.Burstgpt => ("Timestamp", "Request tokens", "Response tokens"),
        TraceFormat.Vidur => ("arrived_at", "num_prefill_tokens", "num_decode_tokens"),
        TraceFormat.Lengths => (null, "num_prefill_tokens", "num_decode_tokens"),
        _ => throw new NotSupportedException(format.ToString()),
    };

    private static TraceRead ReadCsv(TraceWorkload trace)
    {
        var (time, prompt, output) = Columns(trace.Format);
        using var lines = File.ReadLines(trace.Path).GetEnumerator();
        if (!lines.MoveNext() || string.IsNullOrWhiteSpace(lines.Current))
            throw new ConfigException(new SourceLocation(trace.Path, 1, 1), Field, "expected a header row on line 1, found an empty line");
        var (header, headerColumn, headerProblem) = CsvLine.Split(lines.Current);
        if (header is null)
            throw new ConfigException(new SourceLocation(trace.Path, 1, headerColumn), Field, $"malformed header: {headerProblem}");
        var names = header.Select(f => f.Text).ToList();
        foreach (var column in new[] { time, prompt, output }.OfType<string>())
            if (!names.Contains(column))
                throw new ConfigException(new SourceLocation(trace.Path, 1, 1), Field,
                    $"not a {Name(trace.Format)} trace: column '{column}' missing (header: {string.Join(",", names)})");
        var (timeAt, promptAt, outputAt) = (time is null ? -1 : names.IndexOf(time), names.IndexOf(prompt), names.IndexOf(output));
        var needed = Math.Max(timeAt, Math.Max(promptAt, outputAt)) + 1;

        var rows = new List<TraceRow>();
        int skipped = 0, failed = 0, blank = 0, line = 1;
        while (lines.MoveNext())
        {
            line++;
            var text = lines.Current;
            if (string.IsNullOrWhiteSpace(text))
            {
                blank++;
                continue;
            }
            try
            {
                var (fields, column, problem) = CsvLine.Split(text);
                if (fields is null) throw new MalformedRow(column, problem!);
                if (fields.Count < needed)
                    throw new MalformedRow(text.Length + 1,
                        $"expected at least {needed} fields (the header's '{names[needed - 1]}' is field {needed}), found {fields.Count}");
                var output1 = Tokens(fields[outputAt], output, allowZero: trace.Format == TraceFormat.Burstgpt);
                if (output1 == 0)
                {
                    failed++; // BurstGPT logs failed requests with 0 response tokens
                    continue;
                }
                var ticks = time is null ? (long?)null : Timestamp(trace.Format, fields[timeAt], time);
                rows.Add(new TraceRow(line, ticks, Tokens(fields[promptAt], prompt, allowZero: false), output1));
            }
            catch (MalformedRow e)
            {
                if (trace.OnMalformed == MalformedLines.Fail) throw Report(trace, line, e);
                skipped++;
            }
        }
        return new TraceRead(rows, skipped, failed, blank);
    }

    private static TraceRead ReadJsonLines(TraceWorkload trace)
    {
        var rows = new List<TraceRow>();
        int skipped = 0, blank = 0, line = 0;
        foreach (var text in File.ReadLines(trace.Path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                blank++;
                continue;
            }
            try
            {
                using var doc = Parse(text);
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                    throw new MalformedRow(1, $"expected a JSON object, found {root.ValueKind.ToString().ToLowerInvariant()}");
                var ms = Number(root, "timestamp", Units.MaxTimeS * 1000);
                rows.Add(new TraceRow(line, (long)Math.Round(ms * 10_000), Positive(root, "input_length"), Positive(root, "output_length")));
            }
            catch (MalformedRow e)
            {
                if (trace.OnMalformed == MalformedLines.Fail) throw Report(trace, line, e);
                skipped++;
            }
        }
        return new TraceRead(rows, skipped, 0, blank);
    }

    private static ConfigException Report(TraceWorkload trace, int line, MalformedRow e) =>
        new(new SourceLocation(trace.Path, line, e.Column), Field, $"malformed line: {e.Message} (on_malformed: skip skips such lines)");

    private static JsonDocument Parse(string text)
    {
        try
        {
            return JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            throw new MalformedRow((int)(e.BytePositionInLine ?? 0) + 1, $"expected one JSON object per line: {e.Message}");
        }
    }

    private static double Number(JsonElement root, string name, double max)
    {
        if (!root.TryGetProperty(name, out var value)) throw new MalformedRow(1, $"'{name}': expected a number, found no such key");
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var x) || !double.IsFinite(x) || x < 0 || x > max)
            throw new MalformedRow(1, $"'{name}': expected a number from 0 to {max:G}, found {Clip(value.GetRawText())}");
        return x;
    }

    private static int Positive(JsonElement root, string name)
    {
        var x = Number(root, name, int.MaxValue);
        if (x < 1 || x != Math.Floor(x)) throw new MalformedRow(1, $"'{name}': expected a positive integer, found {x.ToString(CultureInfo.InvariantCulture)}");
        return (int)x;
    }

    private static int Tokens(CsvField field, string column, bool allowZero)
    {
        if (!int.TryParse(field.Text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || (value == 0 && !allowZero))
            throw new MalformedRow(field.Column,
                $"column '{column}': expected a {(allowZero ? "non-negative" : "positive")} integer up to {int.MaxValue}, found '{Clip(field.Text)}'");
        return value;
    }

    private static readonly string[] Azure2023Formats = ["yyyy-MM-dd HH:mm:ss.FFFFFFF"];
    private static readonly string[] Azure2024Formats = ["yyyy-MM-dd HH:mm:ss.FFFFFFFzzz", "yyyy-MM-dd HH:mm:sszzz", "yyyy-MM-dd HH:mm:ss.FFFFFFF zzz", "yyyy-MM-dd HH:mm:ss zzz"];

    private static long Timestamp(TraceFormat format, CsvField field, string column)
    {
        var text = field.Text;
        switch (format)
        {
            case TraceFormat.Azure2023:
                if (DateTime.TryParseExact(text, Azure2023Formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var t)) return t.Ticks;
                break;
            case TraceFormat.Azure2024:
                if (DateTimeOffset.TryParseExact(text, Azure2024Formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var o)) return o.UtcTicks;
                break;
            default:
                // Bounded so that ticks, and later nanoseconds, fit a 64-bit clock.
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && double.IsFinite(s) && s >= 0 && s <= Units.MaxTimeS)
                    return (long)Math.Round(s * 10_000_000);
                break;
        }
        var expected = format switch
        {
            TraceFormat.Azure2023 => "a timestamp yyyy-MM-dd HH:mm:ss.fffffff",
            TraceFormat.Azure2024 => "a timestamp yyyy-MM-dd HH:mm:ss[.fffffff]+hh:mm",
            _ => $"seconds from 0 to {Units.MaxTimeS:G}",
        };
        throw new MalformedRow(field.Column, $"column '{column}': expected {expected}, found '{Clip(text)}'");
    }

    /// <summary>A found value as quoted in a message: long ones cut, so a binary line cannot flood the terminal.</summary>
    private static string Clip(string text) => text.Length <= 40 ? text : text[..40] + "...";

    private static string Name(TraceFormat format) => ConfigNames.EnumName(format);
}
