using System.Globalization;
using System.Text.Json;
using CsvHelper;
using CsvHelper.Configuration;
using Simulator.Config;

namespace Simulator.Workload;

/// <summary>One usable trace row: its line, arrival in 100 ns ticks (null when the format has none) and lengths.</summary>
public readonly record struct TraceRow(int Line, long? ArrivalTicks, int PromptTokens, int OutputTokens);

/// <summary>What reading a trace file found.</summary>
public sealed record TraceRead(IReadOnlyList<TraceRow> Rows, int SkippedMalformed, int DroppedFailed);

/// <summary>
/// Reads the trace formats of <see cref="TraceFormat"/>. A malformed line stops the read with
/// <c>file:line</c> and the reason, or is skipped and counted when asked.
/// </summary>
public static class TraceReader
{
    private const string Field = "workload.path";

    public static TraceRead Read(TraceWorkload trace)
    {
        if (!File.Exists(trace.Path)) throw new ConfigException(null, Field, $"trace file '{trace.Path}' does not exist");
        return trace.Format == TraceFormat.Mooncake ? ReadJsonLines(trace) : ReadCsv(trace);
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
        using var reader = new StreamReader(trace.Path);
        using var csv = new CsvReader(reader, new CsvConfiguration(CultureInfo.InvariantCulture) { TrimOptions = TrimOptions.Trim });
        if (!csv.Read() || !csv.ReadHeader())
            throw new ConfigException(new SourceLocation(trace.Path, 1, 1), Field, "empty trace file: expected a header row");
        var header = csv.HeaderRecord!;
        foreach (var column in new[] { time, prompt, output }.OfType<string>())
            if (!header.Contains(column))
                throw new ConfigException(new SourceLocation(trace.Path, 1, 1), Field,
                    $"not a {Name(trace.Format)} trace: column '{column}' missing (header: {string.Join(",", header)})");

        var rows = new List<TraceRow>();
        int skipped = 0, failed = 0;
        while (csv.Read())
        {
            var line = csv.Parser.RawRow;
            try
            {
                var output1 = Tokens(csv.GetField(output), output, allowZero: trace.Format == TraceFormat.Burstgpt);
                if (output1 == 0)
                {
                    failed++; // BurstGPT logs failed requests with 0 response tokens
                    continue;
                }
                var ticks = time is null ? (long?)null : Timestamp(trace.Format, csv.GetField(time) ?? "", time);
                rows.Add(new TraceRow(line, ticks, Tokens(csv.GetField(prompt), prompt, allowZero: false), output1));
            }
            catch (FormatException e)
            {
                if (trace.OnMalformed == MalformedLines.Fail)
                    throw new ConfigException(new SourceLocation(trace.Path, line, 1), Field, $"malformed line: {e.Message} (on_malformed: skip skips such lines)");
                skipped++;
            }
        }
        return new TraceRead(rows, skipped, failed);
    }

    private static TraceRead ReadJsonLines(TraceWorkload trace)
    {
        var rows = new List<TraceRow>();
        var skipped = 0;
        var line = 0;
        foreach (var text in File.ReadLines(trace.Path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            try
            {
                using var doc = JsonDocument.Parse(text);
                var root = doc.RootElement;
                var ms = Number(root, "timestamp");
                rows.Add(new TraceRow(line, checked((long)Math.Round(ms * 10_000)), Positive(root, "input_length"), Positive(root, "output_length")));
            }
            catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException or OverflowException)
            {
                if (trace.OnMalformed == MalformedLines.Fail)
                    throw new ConfigException(new SourceLocation(trace.Path, line, 1), Field, $"malformed line: {e.Message} (on_malformed: skip skips such lines)");
                skipped++;
            }
        }
        return new TraceRead(rows, skipped, 0);
    }

    private static double Number(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value)) throw new FormatException($"missing '{name}'");
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var x) || !double.IsFinite(x) || x < 0)
            throw new FormatException($"'{name}' must be a non-negative number, found {value.GetRawText()}");
        return x;
    }

    private static int Positive(JsonElement root, string name)
    {
        var x = Number(root, name);
        if (x < 1 || x != Math.Floor(x) || x > int.MaxValue) throw new FormatException($"'{name}' must be a positive integer, found {x}");
        return (int)x;
    }

    private static int Tokens(string? text, string column, bool allowZero)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || (value == 0 && !allowZero))
            throw new FormatException($"column '{column}' must be a {(allowZero ? "non-negative" : "positive")} integer, found '{text}'");
        return value;
    }

    private static readonly string[] Azure2023Formats = ["yyyy-MM-dd HH:mm:ss.FFFFFFF"];
    private static readonly string[] Azure2024Formats = ["yyyy-MM-dd HH:mm:ss.FFFFFFFzzz", "yyyy-MM-dd HH:mm:sszzz", "yyyy-MM-dd HH:mm:ss.FFFFFFF zzz", "yyyy-MM-dd HH:mm:ss zzz"];

    private static long Timestamp(TraceFormat format, string text, string column)
    {
        switch (format)
        {
            case TraceFormat.Azure2023:
                if (DateTime.TryParseExact(text, Azure2023Formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var t)) return t.Ticks;
                break;
            case TraceFormat.Azure2024:
                if (DateTimeOffset.TryParseExact(text, Azure2024Formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var o)) return o.UtcTicks;
                break;
            default:
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && double.IsFinite(s) && s >= 0)
                    return checked((long)Math.Round(s * 10_000_000));
                break;
        }
        var expected = format switch
        {
            TraceFormat.Azure2023 => "yyyy-MM-dd HH:mm:ss.fffffff",
            TraceFormat.Azure2024 => "yyyy-MM-dd HH:mm:ss[.fffffff]+hh:mm",
            _ => "non-negative seconds",
        };
        throw new FormatException($"column '{column}' must be a timestamp ({expected}), found '{text}'");
    }

    private static string Name(TraceFormat format) => ConfigNames.EnumName(format);
}
