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

    /// <summary>
    /// The points of a curve worth drawing: the first, the last, and each one that moved at least 1/<paramref name="resolution"/>
    /// of the x or y range away from the last one kept, so every point left out lies within that of a kept one in both axes.
    /// A CDF of 100,000 pass times is then a few thousand segments: the same figure at any print size, without a several-MB SVG.
    /// Statistics read from the curve (shares below a marker) use every point; only drawing thins.
    /// </summary>
    public static (double[] X, double[] Y) Thin(double[] x, double[] y, int resolution = 2000)
    {
        if (x.Length <= 2 * resolution) return (x, y);
        var (dx, dy) = ((x.Max() - x.Min()) / resolution, (y.Max() - y.Min()) / resolution);
        var keptX = new List<double> { x[0] };
        var keptY = new List<double> { y[0] };
        for (var i = 1; i < x.Length - 1; i++)
        {
            if (Math.Abs(x[i] - keptX[^1]) < dx && Math.Abs(y[i] - keptY[^1]) < dy) continue;
            keptX.Add(x[i]);
            keptY.Add(y[i]);
        }
        keptX.Add(x[^1]);
        keptY.Add(y[^1]);
        return (keptX.ToArray(), keptY.ToArray());
    }

    /// <summary>Sorted finite values and their empirical CDF (i / n).</summary>
    public static (double[] X, double[] Y) Cdf(IEnumerable<double> values)
    {
        var x = values.Where(double.IsFinite).Order().ToArray();
        var y = Enumerable.Range(1, x.Length).Select(i => (double)i / x.Length).ToArray();
        return (x, y);
    }
}
