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

    /// <summary>Sorted finite values and their empirical CDF (i / n).</summary>
    public static (double[] X, double[] Y) Cdf(IEnumerable<double> values)
    {
        var x = values.Where(double.IsFinite).Order().ToArray();
        var y = Enumerable.Range(1, x.Length).Select(i => (double)i / x.Length).ToArray();
        return (x, y);
    }
}
