using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;
using Simulator.Config;

namespace Simulator.Accuracy;

/// <summary>
/// One published decode-attention measurement (a row of a reference folder's <c>decode_attention.csv</c>, in the layout
/// of ../shared/reference/README.md): every request of the batch has <see cref="KvLen"/> tokens of KV.
/// </summary>
public sealed record ReferenceRow(
    string File,
    int Line,
    string Source,
    string Reliability,
    string Gpu,
    string Kernel,
    int Batch,
    int QHeads,
    int KvHeads,
    int HeadDim,
    int KvLen,
    string Dtype,
    double TimeUs,
    string Derived)
{
    /// <summary>Figure-read rows (reliability D): their times were computed from utilisations read off a plot.</summary>
    public bool FigureRead => Reliability.StartsWith('D');

    public string Where => $"{Path.GetFileName(File)}:{Line}";

    /// <summary>Reads every row of a reference CSV; a malformed row is an error naming its line and column.</summary>
    public static IReadOnlyList<ReferenceRow> Read(string path)
    {
        using var reader = new StreamReader(path);
        using var csv = new CsvReader(reader, new CsvConfiguration(CultureInfo.InvariantCulture) { TrimOptions = TrimOptions.Trim });
        var rows = new List<ReferenceRow>();
        try
        {
            if (!csv.Read() || !csv.ReadHeader()) throw Problem(path, 1, "", "a header row", "an empty file");
            string[] required = ["source", "reliability", "gpu", "kernel", "batch", "q_heads", "kv_heads", "head_dim", "kv_len", "dtype", "time_us"];
            foreach (var name in required)
                if (!csv.HeaderRecord!.Contains(name)) throw Problem(path, 1, name, "this column in the header", "no such column");
            while (csv.Read())
            {
                var line = csv.Parser.RawRow;
                rows.Add(new ReferenceRow(path, line, Text("source"), Text("reliability"), Text("gpu"), Text("kernel"),
                    Count("batch"), Count("q_heads"), Count("kv_heads"), Count("head_dim"), Count("kv_len"), Text("dtype"),
                    Time("time_us"), csv.HeaderRecord!.Contains("derived") ? Text("derived") : ""));

                string Text(string column) => csv.GetField(column) ?? "";
                int Count(string column) => int.TryParse(Text(column), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0
                    ? v : throw Problem(path, line, column, "a positive integer", $"'{Text(column)}'");
                double Time(string column) => double.TryParse(Text(column), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0 && double.IsFinite(v)
                    ? v : throw Problem(path, line, column, "a positive time in microseconds", $"'{Text(column)}'");
            }
        }
        catch (CsvHelperException e) when (e is not null)
        {
            throw Problem(path, csv.Parser.RawRow, "", "a well-formed CSV row", e.GetType().Name);
        }
        return rows;
    }

    private static ConfigException Problem(string path, int line, string column, string expected, string found) =>
        new(new SourceLocation(path, line, 0), column, $"expected {expected}, found {found}");
}
