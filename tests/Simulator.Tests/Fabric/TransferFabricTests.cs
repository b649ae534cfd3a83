using Simulator.Engine;
using Simulator.Fabric;

namespace Simulator.Tests.Fabric;

public sealed class TransferFabricTests
{
    private static (Simulation Sim, TransferFabric Fabric) New()
    {
        var sim = new Simulation();
        return (sim, new TransferFabric(sim));
    }

    [Fact]
    public void Lone_Transfer_Should_Take_Latency_Plus_Bytes_Over_Bandwidth()
    {
        var (sim, fabric) = New();
        var link = new Link("l", "pcie_h2d", 50); // 50 bytes/ns = 50 GB/s
        long at = -1;
        fabric.Transfer(1_000_000, new TransferPath([link], 5000)).AddCallback(_ => at = sim.Now);
        sim.Run();
        Assert.Equal(5000 + 20_000, at);
        Assert.Equal(1_000_000, link.BytesCarried, 3);
    }

    [Fact]
    public void Two_Transfers_On_One_Link_Should_Share_It_Equally()
    {
        var (sim, fabric) = New();
        var link = new Link("l", "nvlink", 100);
        var times = new List<long>();
        fabric.Transfer(1000, new TransferPath([link], 0)).AddCallback(_ => times.Add(sim.Now));
        fabric.Transfer(3000, new TransferPath([link], 0)).AddCallback(_ => times.Add(sim.Now));
        sim.Run();
        // Both at 50 bytes/ns until the small one ends at 20 ns; the big one then has 2000 bytes at 100: 40 ns.
        Assert.Equal([20L, 40L], times);
    }

    [Fact]
    public void Rates_Should_Be_Max_Min_Fair_Across_Paths()
    {
        // Flows A (links x, y), B (x), C (y); x = 100, y = 30: y splits 15/15 for A and C; B gets x's other 85.
        var (sim, fabric) = New();
        Link x = new("x", "pcie_h2d", 100), y = new("y", "host_memory", 30);
        var done = new Dictionary<string, long>();
        fabric.Transfer(1500, new TransferPath([x, y], 0)).AddCallback(_ => done["A"] = sim.Now);
        fabric.Transfer(8500, new TransferPath([x], 0)).AddCallback(_ => done["B"] = sim.Now);
        fabric.Transfer(1500, new TransferPath([y], 0)).AddCallback(_ => done["C"] = sim.Now);
        sim.Run();
        Assert.Equal(100, done["A"]);
        Assert.Equal(100, done["B"]);
        Assert.Equal(100, done["C"]);
        Assert.Equal(1500 + 8500, x.BytesCarried, 3);
    }

    [Fact]
    public void Bytes_Should_Be_Conserved_For_Random_Transfers()
    {
        var (sim, fabric) = New();
        var links = Enumerable.Range(0, 4).Select(i => new Link($"l{i}", "nvlink", 10 + 20 * i)).ToArray();
        var random = new Random(3);
        var expected = new double[links.Length];
        var finished = 0;
        IEnumerable<SimEvent> Sender()
        {
            for (var i = 0; i < 50; i++)
            {
                yield return sim.Timeout(random.Next(0, 300));
                var path = links.Where(_ => random.NextDouble() < 0.5).DefaultIfEmpty(links[0]).ToArray();
                var bytes = random.Next(1, 100_000);
                foreach (var link in path) expected[Array.IndexOf(links, link)] += bytes;
                fabric.Transfer(bytes, new TransferPath(path, random.Next(0, 50))).AddCallback(_ => finished++);
            }
        }
        sim.Process(Sender());
        sim.Process(Sender());
        sim.Run();
        Assert.Equal(100, finished);
        Assert.Equal(0, fabric.ActiveTransfers);
        for (var i = 0; i < links.Length; i++) Assert.Equal(expected[i], links[i].BytesCarried, 0);
    }

    /// <summary>
    /// Flows on disjoint links are shared out independently: one fabric per node (as the simulator
    /// runs them) gives the same completion times as one fabric over every node.
    /// </summary>
    [Fact]
    public void Fabrics_Per_Node_Should_Finish_Transfers_When_One_Shared_Fabric_Does()
    {
        var random = new Random(3);
        var transfers = Enumerable.Range(0, 60).Select(i => (Node: i % 3, Link: random.Next(2), Start: (long)random.Next(0, 5000),
            Bytes: (long)random.Next(1_000, 400_000))).ToList();
        List<long> Finish(bool perNode)
        {
            var sim = new Simulation();
            var shared = new TransferFabric(sim);
            var fabrics = Enumerable.Range(0, 3).Select(_ => perNode ? new TransferFabric(sim) : shared).ToArray();
            var links = Enumerable.Range(0, 3).Select(n => new[] { new Link($"n{n}a", "pcie_h2d", 50), new Link($"n{n}b", "nvlink", 120) }).ToArray();
            var done = new long[transfers.Count];
            IEnumerable<SimEvent> Start(int i)
            {
                var t = transfers[i];
                yield return sim.Timeout(t.Start);
                // Every path also crosses its node's first link, so flows of one node compete.
                yield return fabrics[t.Node].Transfer(t.Bytes, new TransferPath(t.Link == 0 ? [links[t.Node][0]] : [links[t.Node][0], links[t.Node][1]], 100));
                done[i] = sim.Now;
            }
            for (var i = 0; i < transfers.Count; i++) sim.Process(Start(i));
            sim.Run();
            return [.. done];
        }
        var joint = Finish(perNode: false);
        var split = Finish(perNode: true);
        Assert.All(joint, t => Assert.True(t > 0));
        for (var i = 0; i < joint.Count; i++) Assert.InRange(split[i] - joint[i], -1, 1); // rounding of the shared clock's updates only
    }
}
