using System.Text;
using System.Text.RegularExpressions;

namespace Simulator.Tests.Cli.Fuzz;

/// <summary>
/// Deterministic text mutations for the fuzz suite: each case's <see cref="Random"/> is seeded by its
/// index, so a failing case is reproduced by its number alone. The values inserted are the ones that
/// broke the tool before (integer limits, path tricks, YAML aliases and tags, quotes, control bytes).
/// </summary>
internal sealed partial class Mutator(Random random)
{
    /// <summary>Values that probe limits and parsers, for YAML configs and command-line values.</summary>
    private static readonly string[] ConfigValues =
    [
        "0", "-1", "1", "2147483647", "2147483648", "-2147483648", "9223372036854775807", "1e12", "1e308", "-1e308", "1e-12",
        ".nan", ".inf", "NaN", "~", "null", "''", "\"\"", "'..'", "'.'", "..", ".", "/", "a/b", "../x", "{", "}", "[", "]", "[]",
        "{}", "{ }", "&a", "*a", "&a [*a]", "!!str", "!!int 3", "!x", "'", "\"", "#", ":", "- ", "? ", "|", ">", "%YAML 1.1",
        "{ gpus: [] }", "[ { role: prefill, count: 1 } ]", new string('n', 300), "\t", "\u0000", "\u00e9", "yes", "true",
        "vllm", "orca", "sarathi", "aligned", "distserve", "fastgen", "opt-13b", "llama-2-70b", "exact", "split_kv", "host_pool", "burst",
        "[ { role: prefill, count: 1 }, { role: decode, count: 1 } ]", "{ role: decode, count: 2 }",
    ];

    /// <summary>Values that probe trace readers: limits, separators, quotes, blank lines and bytes.</summary>
    private static readonly string[] TraceValues =
    [
        "", ",", ";", "\"", "\"\"", "\n", "\n\n", "   \n", "\r", "\u0000", "\u00ff", "0", "-1", "2147483647", "2147483648",
        "99999999999", "1e12", "1e308", "NaN", "Infinity", "-0", "0.5", "{", "}", "[", "]", "null", "\"timestamp\"", ":",
        "2023-13-45 99:99:99.0000000", "2024-05-10 00:00:00+25:00", "9999-12-31 23:59:59.9999999", "0001-01-01 00:00:00.0000000",
    ];

    [GeneratedRegex(@"-?\d+(\.\d+)?([eE][-+]?\d+)?")]
    private static partial Regex Number();

    /// <summary>One to three mutations of a config text.</summary>
    public string Config(string text) => Apply(text, ConfigValues);

    /// <summary>One to three mutations of a trace text.</summary>
    public string Trace(string text) => Apply(text, TraceValues);

    public T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];

    public string ConfigValue() => Pick(ConfigValues);

    private string Apply(string text, string[] values)
    {
        var count = 1 + random.Next(3);
        for (var i = 0; i < count; i++) text = Once(text, values);
        return text;
    }

    private string Once(string text, string[] values)
    {
        switch (random.Next(9))
        {
            case 0:
            {
                // Replace a number: the lengths, rates and counts are where overflows hide.
                var numbers = Number().Matches(text);
                if (numbers.Count == 0) goto case 2;
                var m = numbers[random.Next(numbers.Count)];
                return string.Concat(text.AsSpan(0, m.Index), Pick(values), text.AsSpan(m.Index + m.Length));
            }
            case 1:
            {
                // Replace what follows a key's colon (or a field after a comma).
                var lines = text.Split('\n');
                var k = random.Next(lines.Length);
                var at = lines[k].IndexOfAny([':', ',']);
                if (at < 0) goto case 2;
                lines[k] = string.Concat(lines[k].AsSpan(0, at + 1), " ", Pick(values));
                return string.Join('\n', lines);
            }
            case 2:
                return text.Insert(random.Next(text.Length + 1), Pick(values));
            case 3:
            {
                var at = random.Next(text.Length + 1);
                return text.Remove(at, Math.Min(text.Length - at, 1 + random.Next(12)));
            }
            case 4:
            {
                // Duplicate, drop or swap lines: duplicate keys, missing fields, unsorted rows.
                var lines = text.Split('\n').ToList();
                var a = random.Next(lines.Count);
                var b = random.Next(lines.Count);
                switch (random.Next(3))
                {
                    case 0: lines.Insert(b, lines[a]); break;
                    case 1: lines.RemoveAt(a); break;
                    default: (lines[a], lines[b]) = (lines[b], lines[a]); break;
                }
                return string.Join('\n', lines);
            }
            case 5:
                return text.Insert(random.Next(text.Length + 1), ((char)random.Next(256)).ToString());
            case 6:
                return text[..random.Next(text.Length + 1)];
            case 7:
            {
                // A digit appended to a number: values just past a range.
                var numbers = Number().Matches(text);
                if (numbers.Count == 0) goto case 5;
                var m = numbers[random.Next(numbers.Count)];
                return text.Insert(m.Index + m.Length, random.Next(10).ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            default:
            {
                // Re-indent a line: YAML structure errors.
                var lines = text.Split('\n');
                var k = random.Next(lines.Length);
                lines[k] = random.Next(2) == 0 ? "  " + lines[k] : lines[k].TrimStart();
                return string.Join('\n', lines);
            }
        }
    }

    /// <summary>Bytes of <paramref name="text"/> with one byte flipped now and then (invalid UTF-8 in traces).</summary>
    public byte[] Bytes(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length > 0 && random.Next(8) == 0) bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
        return bytes;
    }
}
