using System.Globalization;
using CsvHelper;

namespace Simulator.Output;

/// <summary>Writes a CSV with a header row, invariant culture, LF line ends.</summary>
public static class CsvTable
{
    public static void Write<T>(string path, IReadOnlyList<string> header, IEnumerable<T> rows, Func<T, IEnumerable<object>> cells)
    {
        using var writer = new StreamWriter(path) { NewLine = "\n" };
        using var csv = new CsvWriter(writer, CultureInfo.InvariantCulture);
        foreach (var name in header) csv.WriteField(name);
        csv.NextRecord();
        foreach (var row in rows)
        {
            foreach (var cell in cells(row)) csv.WriteField(Format(cell));
            csv.NextRecord();
        }
    }

    public static string Format(object cell) => cell switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => cell.ToString() ?? "",
    };
}
