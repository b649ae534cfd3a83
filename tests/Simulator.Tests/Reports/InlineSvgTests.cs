using Simulator.Reports;

namespace Simulator.Tests.Reports;

public sealed class InlineSvgTests
{
    [Fact]
    public void Inline_Svg_Should_Prefix_Every_Id_And_Reference_And_Scale_By_A_ViewBox()
    {
        // Given an SVG as ScottPlot writes it (declaration, fixed size, clip paths numbered from cl_0)
        using var dir = new TempDir();
        var path = dir.File("f.svg", """
            <?xml version="1.0" encoding="utf-8" ?>
            <svg xmlns="http://www.w3.org/2000/svg" width="900" height="560">
            	<rect fill="white" width="900" height="560"/>
            	<clipPath id="cl_0"><rect x="1" y="2" width="3" height="4"/></clipPath>
            	<g clip-path="url(#cl_0)"><use href="#cl_0"/><path d="M0 0"/></g>
            </svg>
            """);
        // When it is inlined as figure 3
        var svg = InlineSvg.Read(path, "fig3", "A <title>");
        // Then the declaration is gone, the root scales, and ids and references carry the prefix
        Assert.StartsWith("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 900 560\" role=\"img\" aria-label=\"A &lt;title&gt;\">", svg);
        Assert.Contains("<clipPath id=\"fig3-cl_0\">", svg);
        Assert.Contains("clip-path=\"url(#fig3-cl_0)\"", svg);
        Assert.Contains("href=\"#fig3-cl_0\"", svg);
        Assert.Contains("<rect fill=\"white\" width=\"900\" height=\"560\"/>", svg); // only the root loses its size
        Assert.DoesNotContain("\"cl_0", svg);
    }

    [Fact]
    public void Inline_Svg_Should_Refuse_A_File_That_Is_Not_Svg()
    {
        using var dir = new TempDir();
        Assert.Throws<InvalidDataException>(() => InlineSvg.Read(dir.File("f.svg", "<html></html>"), "fig1", "x"));
    }
}
