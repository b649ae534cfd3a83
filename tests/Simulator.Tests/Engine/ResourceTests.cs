using CsCheck;
using Simulator.Engine;

namespace Simulator.Tests.Engine;

public sealed class ResourceTests
{
    [Fact]
    public void Resource_Should_Grant_In_Request_Order_When_Full()
    {
        var sim = new Simulation();
        var server = new Resource(sim, 1);
        var started = new List<(int Id, long At)>();
        IEnumerable<SimEvent> User(int id)
        {
            using var request = server.Request();
            yield return request;
            started.Add((id, sim.Now));
            yield return sim.Timeout(10);
        }
        for (var i = 0; i < 4; i++) sim.Process(User(i));

        sim.Run();

        Assert.Equal([(0, 0L), (1, 10L), (2, 20L), (3, 30L)], started);
    }

    [Fact]
    public void Disposing_A_Waiting_Request_Should_Withdraw_It()
    {
        var sim = new Simulation();
        var server = new Resource(sim, 1);
        var holder = server.Request();
        var impatient = server.Request();
        var patient = server.Request();
        impatient.Dispose();
        holder.Dispose();
        sim.Run();
        Assert.True(patient.IsGranted);
        Assert.False(impatient.IsTriggered);
        Assert.Equal(1, server.InUse);
    }

    [Fact]
    public void Resource_Should_Never_Exceed_Capacity_For_Random_Workloads()
    {
        Property.ForAll(Gen.Select(Gen.Int[1, 5], Gen.Int[1, 40], Gen.Int[0, 1000]), t =>
        {
            var (capacity, users, seed) = t;
            var sim = new Simulation();
            var resource = new Resource(sim, capacity);
            var random = new Random(seed);
            var maxInUse = 0;
            var served = 0;
            IEnumerable<SimEvent> User()
            {
                yield return sim.Timeout(random.Next(0, 20));
                using var request = resource.Request();
                yield return request;
                maxInUse = Math.Max(maxInUse, resource.InUse);
                yield return sim.Timeout(random.Next(1, 30));
                served++;
            }
            for (var i = 0; i < users; i++) sim.Process(User());
            sim.Run();
            return maxInUse <= capacity && served == users && resource.InUse == 0 && resource.QueueLength == 0;
        }, iterations: 200);
    }

    [Fact]
    public void Store_Should_Deliver_Items_In_Fifo_Order_And_Block_When_Full()
    {
        var sim = new Simulation();
        var store = new Store<int>(sim, capacity: 2);
        var received = new List<(int Item, long At)>();
        var putDone = new List<long>();
        IEnumerable<SimEvent> Producer()
        {
            for (var i = 0; i < 4; i++)
            {
                yield return store.Put(i);
                putDone.Add(sim.Now);
            }
        }
        IEnumerable<SimEvent> Consumer()
        {
            for (var i = 0; i < 4; i++)
            {
                yield return sim.Timeout(10);
                var get = store.Get();
                yield return get;
                received.Add((get.Value, sim.Now));
            }
        }
        sim.Process(Producer());
        sim.Process(Consumer());

        sim.Run();

        Assert.Equal([0L, 0L, 10L, 20L], putDone);
        Assert.Equal([(0, 10L), (1, 20L), (2, 30L), (3, 40L)], received);
    }

    [Fact]
    public void Container_Should_Keep_Its_Level_Within_Bounds()
    {
        Property.ForAll(Gen.Select(Gen.Int[1, 100], Gen.Int[0, 1000]), t =>
        {
            var (capacity, seed) = t;
            var sim = new Simulation();
            var tank = new Container(sim, capacity, initialLevel: capacity / 2);
            var random = new Random(seed);
            var ok = true;
            IEnumerable<SimEvent> Mover(bool filling)
            {
                for (var i = 0; i < 30; i++)
                {
                    yield return sim.Timeout(random.Next(0, 5));
                    var amount = random.Next(1, capacity + 1);
                    yield return filling ? tank.Put(amount) : tank.Get(amount);
                    ok &= tank.Level >= 0 && tank.Level <= tank.Capacity;
                }
            }
            sim.Process(Mover(true));
            sim.Process(Mover(false));
            sim.Run(10_000);
            return ok;
        }, iterations: 200);
    }
}
