using System.Globalization;
using CsvHelper;
using Simulator.Config;

namespace Simulator.Calibration;

/// <summary>A Vidur CSV: columns by name (Vidur's pandas files may lead with an unnamed index column), errors naming file, line and column.</summary>
internal sealed class VidurCsv
{
    private readonly string path;
    private readonly Dictionary<string, int> columns;
    private string[] fields = [];
    private int line;

    private VidurCsv(string path, Dictionary<string, int> columns)
    {
        this.path = path;
        this.columns = columns;
    }

    public static IEnumerable<VidurCsv> Read(string path, string[] required)
    {
        using var reader = new StreamReader(path);
        using var csv = new CsvReader(reader, CultureInfo.InvariantCulture);
        if (!csv.Read() || !csv.ReadHeader())
            throw new ConfigException(new SourceLocation(path, 1, 1), "", "empty file: expected Vidur's header row");
        var header = csv.HeaderRecord!;
        if (header.Length == 1 && header[0].StartsWith("version https://git-lfs", StringComparison.Ordinal))
            throw new ConfigException(new SourceLocation(path, 1, 1), "", "a Git LFS pointer, not the profile: run `git lfs pull` in the Vidur checkout");
        var columns = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < header.Length; i++) columns.TryAdd(header[i], i);
        var missing = required.Where(c => !columns.ContainsKey(c)).ToList();
        if (missing.Count > 0)
            throw new ConfigException(new SourceLocation(path, 1, 1), "", $"missing Vidur column(s) {string.Join(", ", missing)}");
        var row = new VidurCsv(path, columns);
        while (csv.Read())
        {
            row.fields = csv.Parser.Record ?? [];
            row.line = csv.Parser.RawRow;
            yield return row;
        }
    }

    public bool Has(string column) => columns.TryGetValue(column, out var i) && i < fields.Length && fields[i].Length > 0;

    public string Text(string column) => columns.TryGetValue(column, out var i) && i < fields.Length ? fields[i] : throw Error(column, "missing value");

    public int Int(string column) =>
        int.TryParse(Text(column), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) && v >= 0
            ? v
            // pandas writes integer columns holding a missing value as floats ("16.0").
            : double.TryParse(Text(column), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d >= 0 && d == Math.Floor(d) && d <= int.MaxValue
                ? (int)d : throw Error(column, $"expected a non-negative integer, found '{Text(column)}'");

    public long Long(string column) =>
        long.TryParse(Text(column), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : Int(column);

    public bool Bool(string column) => Text(column) switch
    {
        "True" or "true" or "1" => true,
        "False" or "false" or "0" => false,
        var other => throw Error(column, $"expected True or False, found '{other}'"),
    };

    public double NonNegative(string column) =>
        double.TryParse(Text(column), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) && v >= 0
            ? v : throw Error(column, $"expected a non-negative number (ms), found '{Text(column)}'");

    public double Positive(string column) => NonNegative(column) is > 0 and var v ? v : throw Error(column, "expected a positive time (ms), found 0");

    public ConfigException Error(string column, string problem) =>
        new(new SourceLocation(path, line, (columns.TryGetValue(column, out var i) ? i : 0) + 1), column, problem);
}
