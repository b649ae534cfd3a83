using ScottPlot;

namespace Simulator.Plots;

/// <summary>Saves a figure as PNG and SVG at a fixed size, with byte-stable SVG output.</summary>
public static partial class FigureFiles
{
    public const int Width = 900;
    public const int Height = 560;

    /// <summary>Size of figures meant for a paper column (about 3.3 in wide): large type on a small canvas.</summary>
    public const int ColumnWidth = 720;
    public const int ColumnHeight = 440;

    public static IReadOnlyList<string> Save(Plot plot, string dir, string name) => Save(plot, dir, name, Width, Height);

    /// <summary>
    /// Saves a figure sized and lettered to stay readable when scaled to a paper column: at 3.3 in
    /// wide, tick labels are about 6 pt and axis labels about 7 pt.
    /// </summary>
    public static IReadOnlyList<string> SaveForColumn(Plot plot, string dir, string name)
    {
        plot.Axes.Title.Label.FontSize = 20;
        foreach (var axis in new IAxis[] { plot.Axes.Bottom, plot.Axes.Left })
        {
            axis.Label.FontSize = 21;
            axis.TickLabelStyle.FontSize = 18;
        }
        plot.Legend.FontSize = 16;
        return Save(plot, dir, name, ColumnWidth, ColumnHeight);
    }

    private static IReadOnlyList<string> Save(Plot plot, string dir, string name, int width, int height)
    {
        Directory.CreateDirectory(dir);
        var png = Path.Combine(dir, name + ".png");
        var svg = Path.Combine(dir, name + ".svg");
        plot.SavePng(png, width, height);
        plot.SaveSvg(svg, width, height);
        NormaliseClipIds(svg);
        return [png, svg];
    }

    /// <summary>
    /// Skia numbers SVG clip paths (in hex) with a process-wide counter; renumber them per file so the
    /// same run writes the same bytes however many figures the process drew before.
    /// </summary>
    private static void NormaliseClipIds(string path)
    {
        var ids = new Dictionary<string, string>();
        var text = ClipId().Replace(File.ReadAllText(path), m =>
        {
            if (!ids.TryGetValue(m.Value, out var id)) ids[m.Value] = id = $"cl_{ids.Count}";
            return id;
        });
        File.WriteAllText(path, text);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\bcl_[0-9a-f]+\b")]
    private static partial System.Text.RegularExpressions.Regex ClipId();
}
