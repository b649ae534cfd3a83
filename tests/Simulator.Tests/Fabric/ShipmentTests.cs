using System.Globalization;
using Simulator.Engine;
using Simulator.Fabric;

namespace Simulator.Tests.Fabric;

/// <summary>
/// A shipment (<see cref="TransferFabric.Transfer(IReadOnlyList{TransferPart})"/>: a request's KV shards started together) makes
/// fewer events than a process per part joined by a condition, and must give the same simulation: every event that does something at
/// the same time and in the same order, so a run's files stay byte for byte what they were.
/// </summary>
public sealed class ShipmentTests
{
    /// <summary>
    /// Random traffic over a few shared links (integer rates and small latencies, so ends and follow-ups fall on the same nanosecond
    /// often): senders start shipments of one to four parts (some with nothing to move, some parts without latency, latencies mixed
    /// within one shipment, bursts of processes that ship as they start and read the fabric when a latency could end), a waiter per shipment logs its landing and may wait a little and ship again, and a ticker logs every few
    /// nanoseconds. The log, the random draws made in event order, and every link's bytes must match the reference exactly.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public void A_Shipment_Should_Give_The_Simulation_Of_A_Transfer_Per_Part_Joined_By_A_Condition(int seed)
    {
        var reference = Simulate(seed, useReference: true);
        var shipped = Simulate(seed, useReference: false);
        Assert.True(reference.Log.Count > 300, $"only {reference.Log.Count} log lines");
        Assert.Contains(reference.Log, line => line.StartsWith("landed", StringComparison.Ordinal));
        Assert.Equal(reference.Log, shipped.Log);
        Assert.Equal(reference.Bytes, shipped.Bytes);
        Assert.True(shipped.Events < reference.Events, $"{shipped.Events} events against {reference.Events}");
    }

    [Fact]
    public void A_Shipment_Should_Land_When_Its_Slowest_Part_Has()
    {
        var sim = new Simulation();
        var fabric = new TransferFabric(sim);
        Link fast = new("fast", "nvlink", 100), slow = new("slow", "nvlink", 10);
        long landed = -1;
        fabric.Transfer([new TransferPart(1000, new TransferPath([fast], 5)), new TransferPart(1000, new TransferPath([slow], 5))])
            .AddCallback(_ => landed = sim.Now);
        sim.Run();
        Assert.Equal(5 + 100, landed);
        Assert.Equal(1000, fast.BytesCarried, 6);
        Assert.Equal(1000, slow.BytesCarried, 6);
        Assert.Equal(0, fabric.ActiveTransfers);
    }

    [Fact]
    public void An_Empty_Shipment_Should_Be_Refused()
    {
        var fabric = new TransferFabric(new Simulation());
        Assert.Throws<ArgumentException>(() => fabric.Transfer([]));
    }

    private sealed record Outcome(List<string> Log, List<string> Bytes, long Events);

    private static Outcome Simulate(int seed, bool useReference)
    {
        var sim = new Simulation();
        var random = new Random(seed);
        var links = new[] { new Link("a", "nvlink", 10), new Link("b", "nvlink", 20), new Link("c", "pcie_h2d", 5), new Link("d", "host_memory", 40) };
        var fabric = new TransferFabric(sim);
        var reference = new ProcessPerTransferFabric(sim);
        var log = new List<string>();
        var shipments = 0;
        SimEvent Ship(IReadOnlyList<TransferPart> parts) => useReference ? reference.Ship(parts) : fabric.Transfer(parts);

        TransferPart Part()
        {
            var path = links.Where(_ => random.NextDouble() < 0.4).ToArray();
            if (path.Length == 0 && random.NextDouble() < 0.8) path = [links[random.Next(links.Length)]];
            long[] latencies = [0, 5, 5, 10];
            long[] sizes = [0, 100, 200, 400, 1000];
            var bytes = random.NextDouble() < 0.7 ? sizes[random.Next(sizes.Length)] : random.Next(1, 3000);
            return new TransferPart(bytes, new TransferPath(path, latencies[random.Next(latencies.Length)]));
        }

        TransferPart[] Parts()
        {
            var count = random.Next(1, 5);
            var parts = new TransferPart[count];
            // Most shipments are a request's shards: one latency for all; some mix them.
            var same = random.NextDouble() < 0.7;
            for (var i = 0; i < count; i++) parts[i] = same && i > 0 ? parts[0] with { Bytes = parts[0].Bytes, Path = parts[0].Path with { Links = Part().Path.Links } } : Part();
            return parts;
        }

        IEnumerable<SimEvent> Waiter(int id, SimEvent landed, int depth)
        {
            yield return landed;
            log.Add($"landed {id} at {sim.Now} draw {random.Next(1000)}");
            if (depth < 2 && random.NextDouble() < 0.5)
            {
                yield return sim.Timeout(random.Next(0, 12));
                var again = shipments++;
                log.Add($"ships {again} after {id} at {sim.Now}");
                sim.Process(Waiter(again, Ship(Parts()), depth + 1));
            }
        }

        // Ships in its first step (a process's start, an urgent event, as the cluster's KV pulls do), then reads the fabric when a latency could end.
        IEnumerable<SimEvent> Burst(int name)
        {
            var id = shipments++;
            log.Add($"burst {name} ships {id} at {sim.Now} active {(useReference ? reference.ActiveTransfers : fabric.ActiveTransfers)}");
            sim.Process(Waiter(id, Ship(Parts()), 0));
            yield return sim.Timeout(new long[] { 0, 5, 10 }[random.Next(3)]);
            log.Add($"burst {name} reads at {sim.Now} active {(useReference ? reference.ActiveTransfers : fabric.ActiveTransfers)}");
        }

        IEnumerable<SimEvent> Sender(int name)
        {
            for (var i = 0; i < 40; i++)
            {
                yield return sim.Timeout(random.Next(0, 30));
                var id = shipments++;
                log.Add($"sender {name} ships {id} at {sim.Now}");
                sim.Process(Waiter(id, Ship(Parts()), 0));
                if (random.NextDouble() < 0.3)
                    for (var b = 0; b < 3; b++) sim.Process(Burst(b));
            }
        }

        IEnumerable<SimEvent> Ticker()
        {
            for (var i = 0; i < 400; i++)
            {
                yield return sim.Timeout(7);
                log.Add($"tick {sim.Now} active {(useReference ? reference.ActiveTransfers : fabric.ActiveTransfers)}");
            }
        }

        for (var s = 0; s < 3; s++) sim.Process(Sender(s));
        sim.Process(Ticker());
        sim.Run();
        return new Outcome(log, [.. links.Select(l => l.BytesCarried.ToString("R", CultureInfo.InvariantCulture))], sim.ProcessedEvents);
    }
}
