namespace Simulator.Workload;

/// <summary>One field of a CSV line: its text (trimmed, quotes removed) and the 1-based column where it starts.</summary>
public readonly record struct CsvField(string Text, int Column);

/// <summary>
/// Splits one line of a comma-separated trace (RFC 4180 quoting within the line, fields trimmed). Traces are
/// machine-written tables of numbers and timestamps, so anything irregular (a quote inside an unquoted field,
/// an unterminated quote, text after a closing quote, a control byte) is reported with its column rather
/// than guessed at: a silently misread row would change the workload without a word.
/// </summary>
public static class CsvLine
{
    /// <summary>The fields of <paramref name="line"/>, or the column and description of what is wrong with it.</summary>
    public static (List<CsvField>? Fields, int Column, string? Problem) Split(string line)
    {
        var fields = new List<CsvField>();
        var i = 0;
        while (true)
        {
            while (i < line.Length && line[i] is ' ' or '\t') i++;
            var start = i;
            string text;
            if (i < line.Length && line[i] == '"')
            {
                var (value, end, problem) = Quoted(line, i);
                if (problem is not null) return (null, end + 1, problem);
                text = value!;
                i = end;
                while (i < line.Length && line[i] is ' ' or '\t') i++;
                if (i < line.Length && line[i] != ',')
                    return (null, i + 1, $"expected ',' after the closing quote, found '{Show(line[i])}'");
            }
            else
            {
                var end = line.IndexOf(',', i);
                if (end < 0) end = line.Length;
                text = line[i..end].Trim(' ', '\t');
                i = end;
                for (var k = start; k < end; k++)
                {
                    if (line[k] == '"') return (null, k + 1, "a quote inside an unquoted field (quote the whole field, doubling inner quotes)");
                    if (char.IsControl(line[k]) && line[k] != '\t') return (null, k + 1, $"expected text, found the control character {Show(line[k])}");
                }
            }
            fields.Add(new CsvField(text, start + 1));
            if (i >= line.Length) return (fields, 0, null);
            i++; // the comma
        }
    }

    /// <summary>A quoted field starting at <paramref name="open"/>: its value and the index just past the closing quote.</summary>
    private static (string? Value, int End, string? Problem) Quoted(string line, int open)
    {
        var text = new System.Text.StringBuilder();
        for (var i = open + 1; i < line.Length; i++)
        {
            var c = line[i];
            if (c == '"')
            {
                if (i + 1 < line.Length && line[i + 1] == '"')
                {
                    text.Append('"');
                    i++;
                    continue;
                }
                return (text.ToString().Trim(' ', '\t'), i + 1, null);
            }
            if (char.IsControl(c) && c != '\t') return (null, i, $"expected text, found the control character {Show(c)}");
            text.Append(c);
        }
        return (null, open, "a quote that is never closed on this line");
    }

    private static string Show(char c) => char.IsControl(c) ? $"U+{(int)c:X4}" : c.ToString();
}
