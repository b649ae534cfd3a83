using Simulator.Engine;

namespace Simulator.Tests.Engine;

/// <summary>
/// The engine against queueing theory. Each check runs independent replications and asserts
/// that the theoretical value lies within 4 standard errors of the replication mean (and,
/// as a sanity bound, within 5% of it): the tolerance comes from the run's own variance.
/// </summary>
public sealed class QueueingClosedFormTests
{
    private const double ServiceRatePerNs = 1.0 / 1_000_000; // mean service 1 ms

    [Fact]
    public void MM1_Should_Match_Closed_Form_Waiting_Time_And_Queue_Length()
    {
        // Given rho = 0.5: Wq = rho / (mu - lambda), Lq = rho^2 / (1 - rho)
        const double rho = 0.5;
        var lambda = rho * ServiceRatePerNs;
        var expectedWq = rho / (ServiceRatePerNs - lambda);
        var expectedLq = rho * rho / (1 - rho);

        // When
        var runs = Replicate(servers: 1, lambda, replications: 8, customers: 100_000);

        // Then
        AssertWithinError(runs.Select(r => r.MeanWaitNs), expectedWq, "Wq");
        AssertWithinError(runs.Select(r => r.MeanQueueLength), expectedLq, "Lq");
    }

    [Fact]
    public void MMc_Should_Match_Erlang_C_Waiting_Time_And_Queue_Length()
    {
        // Given c = 4 servers at rho = 0.7
        const int c = 4;
        const double rho = 0.7;
        var lambda = rho * c * ServiceRatePerNs;
        var a = lambda / ServiceRatePerNs;
        var pWait = ErlangC(c, a);
        var expectedWq = pWait / (c * ServiceRatePerNs - lambda);
        var expectedLq = pWait * rho / (1 - rho);

        // When
        var runs = Replicate(c, lambda, replications: 8, customers: 100_000);

        // Then
        AssertWithinError(runs.Select(r => r.MeanWaitNs), expectedWq, "Wq");
        AssertWithinError(runs.Select(r => r.MeanQueueLength), expectedLq, "Lq");
        Assert.All(runs, r => Assert.True(r.MaxInUse <= c));
    }

    [Fact]
    public void MMc_Should_Replay_Identically_With_The_Same_Seed()
    {
        var first = new MmcQueue(3, 2.0 * ServiceRatePerNs, ServiceRatePerNs, 5_000, seed: 7).Run();
        var second = new MmcQueue(3, 2.0 * ServiceRatePerNs, ServiceRatePerNs, 5_000, seed: 7).Run();
        var other = new MmcQueue(3, 2.0 * ServiceRatePerNs, ServiceRatePerNs, 5_000, seed: 8).Run();

        Assert.Equal(first.Log, second.Log);
        Assert.Equal(first.Events, second.Events);
        Assert.NotEqual(first.Log, other.Log);
    }

    private static List<MmcQueue> Replicate(int servers, double lambda, int replications, int customers) =>
        Enumerable.Range(0, replications)
            .AsParallel().AsOrdered()
            .Select(seed => new MmcQueue(servers, lambda, ServiceRatePerNs, customers, seed + 1).Run())
            .ToList();

    private static void AssertWithinError(IEnumerable<double> samples, double expected, string what)
    {
        var values = samples.ToArray();
        var mean = values.Average();
        var sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));
        var standardError = sd / Math.Sqrt(values.Length);
        Assert.True(Math.Abs(mean - expected) <= 4 * standardError,
            $"{what}: simulated {mean:G6} vs closed form {expected:G6}, standard error {standardError:G3}");
        Assert.True(Math.Abs(mean - expected) <= 0.05 * expected,
            $"{what}: simulated {mean:G6} differs from closed form {expected:G6} by more than 5%");
    }

    private static double ErlangC(int c, double a)
    {
        double term = 1, sum = 1;
        for (var k = 1; k < c; k++)
        {
            term *= a / k;
            sum += term;
        }
        var last = term * a / c * (c / (c - a));
        return last / (sum + last);
    }
}
