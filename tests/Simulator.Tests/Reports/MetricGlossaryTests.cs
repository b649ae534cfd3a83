using Simulator.Reports;

namespace Simulator.Tests.Reports;

public sealed class MetricGlossaryTests
{
    [Theory]
    [InlineData("ttft_s", "TTFT", "s")]
    [InlineData("decode_throughput_tokens_per_s", "decode throughput", "tok/s")]
    [InlineData("request_throughput_per_s", "request throughput", "/s")]
    [InlineData("kv_transferred_gib", "KV moved", "GiB")]
    [InlineData("busy_fraction_by_role.decode", "busy share of decode GPUs", "")]
    [InlineData("link_utilisation.pcie_h2d.max_utilisation", "pcie h2d link max utilisation", "")]
    public void Known_Metrics_Should_Have_A_Label_A_Definition_And_A_Unit(string metric, string label, string unit)
    {
        var (shown, definition) = MetricGlossary.Describe(metric);
        Assert.Equal(label, shown);
        Assert.NotEmpty(definition);
        Assert.Equal(unit, MetricGlossary.Unit(metric));
    }

    [Fact]
    public void An_Unknown_Metric_Should_Be_Its_Own_Label_With_No_Definition()
    {
        Assert.Equal(("claims_met", ""), MetricGlossary.Describe("claims_met"));
        Assert.Equal("s", MetricGlossary.Unit("pool_wait_s.p99"));
    }

    [Fact]
    public void Every_Headline_Metric_Should_Be_Defined()
    {
        Assert.All(MetricGlossary.Headline, m => Assert.NotEmpty(MetricGlossary.Describe(m).Definition));
        Assert.All(MetricGlossary.Headline, m => Assert.Contains(m, Simulator.Sweeps.MetricColumns.Fixed));
    }
}
