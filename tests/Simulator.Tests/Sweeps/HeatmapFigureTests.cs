using Simulator.Sweeps;

namespace Simulator.Tests.Sweeps;

public sealed class HeatmapFigureTests
{
    private static Dictionary<string, string> Point(string kernel, string model, string variant, double throughput) => new()
    {
        ["kernel"] = kernel, ["model"] = model, ["variant"] = variant, ["decode_throughput_tokens_per_s"] = throughput.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    [Fact]
    public void Heatmap_Should_Put_The_Ratio_Of_Two_Labels_In_Each_Cell()
    {
        // Given aligned and vllm at two kernels x two models
        var spec = new FigureSpec("wins", FigureKind.Heatmap, "kernel", X: "model", Metric: "decode_throughput_tokens_per_s", Ratio: "variant=aligned/vllm");
        List<Dictionary<string, string>> points =
        [
            Point("fa2", "small", "vllm", 100), Point("fa2", "small", "aligned", 150),
            Point("fa2", "large", "vllm", 200), Point("fa2", "large", "aligned", 100),
            Point("slow", "small", "vllm", 100), Point("slow", "small", "aligned", 300),
        ];
        var notes = new List<string>();

        // When
        var plot = HeatmapFigure.Draw(spec, ["small", "large"], ["fa2", "slow"], points, notes);

        // Then each row's cells are the ratios, a missing point reads n/a
        Assert.NotNull(plot);
        Assert.Contains("kernel = fa2: small 1.50, large 0.50", notes);
        Assert.Contains("kernel = slow: small 3.00, large n/a", notes);
        Assert.Empty(spec.Validate());
        Assert.Equal(("variant", "aligned", "vllm"), spec.RatioParts());
    }

    [Fact]
    public void A_Malformed_Ratio_Should_Be_Refused()
    {
        var spec = new FigureSpec("wins", FigureKind.Heatmap, "kernel", X: "model", Metric: "m", Ratio: "variant=aligned");
        Assert.Contains(spec.Validate(), p => p.Field == "ratio");
    }
}
