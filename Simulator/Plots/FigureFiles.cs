using ScottPlot;

namespace Simulator.Plots;

/// <summary>Saves a figure as PNG and SVG at a fixed size, with byte-stable SVG output.</summary>
public static partial class FigureFiles
{
    public const int Width = 900;
    public const int Height = 560;

    public static IReadOnlyList<string> Save(Plot plot, string dir, string name)
    {
        Directory.CreateDirectory(dir);
        var png = Path.Combine(dir, name + ".png");
        var svg = Path.Combine(dir, name + ".svg");
        plot.SavePng(png, Width, Height);
        plot.SaveSvg(svg, Width, Height);
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
