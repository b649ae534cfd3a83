using System.Globalization;
using CsvHelper;

namespace Simulator.Plots;

/// <summary>Reads columns of a written results CSV back for plotting.</summary>
public static class ResultsTable
{
    public static Dictionary<string, double[]> ReadColumns(string path, params string[] columns)
    {
        using var reader = new StreamReader(path);
        using var csv = new CsvReader(reader, CultureInfo.InvariantCulture);
        csv.Read();
        csv.ReadHeader();
        var values = columns.ToDictionary(c => c, _ => new List<double>());
        while (csv.Read())
            foreach (var column in columns)
                values[column].Add(double.Parse(csv.GetField(column)!, NumberStyles.Float, CultureInfo.InvariantCulture));
        return values.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
    }

    /// <summary>Every row of a results CSV as column name to text.</summary>
    public static List<Dictionary<string, string>> ReadRows(string path)
    {
        using var reader = new StreamReader(path);
        using var csv = new CsvReader(reader, CultureInfo.InvariantCulture);
        csv.Read();
        csv.ReadHeader();
        var header = csv.HeaderRecord!;
        var rows = new List<Dictionary<string, string>>();
        while (csv.Read()) rows.Add(header.ToDictionary(h => h, h => csv.GetField(h) ?? ""));
        return rows;
    }

    public static double Number(string text) => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    /// <summary>Sorted finite values and their empirical CDF (i / n).</summary>
    public static (double[] X, double[] Y) Cdf(IEnumerable<double> values)
    {
        var x = values.Where(double.IsFinite).Order().ToArray();
        var y = Enumerable.Range(1, x.Length).Select(i => (double)i / x.Length).ToArray();
        return (x, y);
    }
}
