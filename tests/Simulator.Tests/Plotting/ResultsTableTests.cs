using Simulator.Plots;

// Tests of Simulator/Plots (a namespace Simulator.Tests.Plots would hide Simulator.Plots from the other tests).
namespace Simulator.Tests.Plotting;

public sealed class ResultsTableTests
{
    [Fact]
    public void Thinning_Should_Keep_Every_Dropped_Point_Within_A_Resolution_Step_Of_A_Kept_One()
    {
        // Given the CDF of 100,000 lognormal-ish values (a long tail, as pass times have)
        var random = new Random(3);
        var (x, y) = ResultsTable.Cdf(Enumerable.Range(0, 100_000).Select(_ => Math.Exp(random.NextDouble() * 4 + random.NextDouble() * random.NextDouble() * 6)));
        const int resolution = 1000;
        // When it is thinned for drawing
        var (tx, ty) = ResultsTable.Thin(x, y, resolution);
        // Then far fewer points are drawn, the ends are kept, and each point left out lies within one step of the last kept before it
        Assert.True(tx.Length < 2 * resolution + 2 && tx.Length > 10, $"{tx.Length} points kept");
        Assert.Equal((x[0], y[0]), (tx[0], ty[0]));
        Assert.Equal((x[^1], y[^1]), (tx[^1], ty[^1]));
        var (dx, dy) = ((x[^1] - x[0]) / resolution, (y[^1] - y[0]) / resolution);
        var k = 0;
        for (var i = 0; i < x.Length; i++)
        {
            while (k + 1 < tx.Length && tx[k + 1] <= x[i] && ty[k + 1] <= y[i]) k++;
            Assert.True(Math.Abs(x[i] - tx[k]) < dx + 1e-12 && Math.Abs(y[i] - ty[k]) < dy + 1e-12, $"point {i} is far from the kept point {k}");
        }
    }

    [Fact]
    public void Thinning_Should_Leave_A_Short_Curve_Unchanged()
    {
        double[] x = [1, 2, 3], y = [0.3, 0.6, 1];
        var (tx, ty) = ResultsTable.Thin(x, y);
        Assert.Same(x, tx);
        Assert.Same(y, ty);
    }
}
