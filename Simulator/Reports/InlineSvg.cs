using System.Text.RegularExpressions;

namespace Simulator.Reports;

/// <summary>
/// A figure's SVG file made fit to sit inside a page: without its XML declaration, scaled by a viewBox instead of a
/// fixed size, and with every id prefixed by the figure's id. Each file numbers its clip paths from cl_0
/// (<see cref="Plots.FigureFiles"/>), so inlined as written two figures would share ids and clip each other's plots.
/// </summary>
public static partial class InlineSvg
{
    public static string Read(string path, string prefix, string label)
    {
        var text = XmlDeclaration().Replace(File.ReadAllText(path), "").Trim();
        var ids = Id().Matches(text).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        text = Reference().Replace(text, m => ids.Contains(m.Groups[2].Value) ? $"{m.Groups[1].Value}{prefix}-{m.Groups[2].Value}" : m.Value);
        var root = Root().Match(text);
        if (!root.Success) throw new InvalidDataException($"'{path}' is not an SVG file: no <svg> element");
        var attributes = root.Groups[1].Value;
        var width = Attribute(attributes, "width");
        var height = Attribute(attributes, "height");
        attributes = SizeAttribute().Replace(attributes, "");
        if (width is not null && height is not null && Attribute(attributes, "viewBox") is null) attributes += $" viewBox=\"0 0 {width} {height}\"";
        var escaped = System.Net.WebUtility.HtmlEncode(label);
        return $"<svg{attributes} role=\"img\" aria-label=\"{escaped}\">" + text[(root.Index + root.Length)..];
    }

    private static string? Attribute(string attributes, string name)
    {
        var m = Regex.Match(attributes, $@"\s{name}=""([^""]*)""");
        return m.Success ? m.Groups[1].Value : null;
    }

    [GeneratedRegex(@"<\?xml[^>]*\?>")]
    private static partial Regex XmlDeclaration();

    [GeneratedRegex(@"\sid=""([^""]+)""")]
    private static partial Regex Id();

    // id="x", url(#x) and href="#x" (xlink:href too), each naming an id of this file.
    [GeneratedRegex(@"(\sid=""|url\(#|href=""#)([^""\)]+)")]
    private static partial Regex Reference();

    [GeneratedRegex(@"<svg(\s[^>]*)?>")]
    private static partial Regex Root();

    [GeneratedRegex(@"\s(width|height)=""[^""]*""")]
    private static partial Regex SizeAttribute();
}
