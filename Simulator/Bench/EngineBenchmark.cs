using System.Diagnostics;
using Simulator.Engine;

namespace Simulator.Bench;

/// <summary>Events per second of the bare engine on two models: timeout-heavy and resource-heavy.</summary>
public static class EngineBenchmark
{
    public sealed record Figure(string Scenario, long Events, double WallSeconds, long AllocatedBytes)
    {
        public double EventsPerSecond => Events / WallSeconds;
    }

    /// <summary>Many processes that do nothing but sleep for pseudo-random delays.</summary>
    public static Figure TimeoutHeavy(int processes = 1000, int stepsEach = 10_000) => Measure("timeout-heavy", () =>
    {
        var sim = new Simulation();
        for (var p = 0; p < processes; p++) sim.Process(Sleeper(sim, p, stepsEach));
        sim.Run();
        return sim.ProcessedEvents;
    });

    /// <summary>An M/M/8 queue: customers request a server, hold it, release it.</summary>
    public static Figure ResourceHeavy(int customers = 1_000_000) => Measure("resource-heavy", () =>
    {
        var sim = new Simulation();
        var servers = new Resource(sim, 8);
        sim.Process(Source(sim, servers, customers));
        sim.Run();
        return sim.ProcessedEvents;
    });

    private static Figure Measure(string name, Func<long> body)
    {
        body(); // warm up the JIT on a full run, then measure a second one
        GC.Collect();
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var watch = Stopwatch.StartNew();
        var events = body();
        watch.Stop();
        return new Figure(name, events, watch.Elapsed.TotalSeconds, GC.GetAllocatedBytesForCurrentThread() - allocated);
    }

    private static IEnumerable<SimEvent> Sleeper(Simulation sim, int seed, int steps)
    {
        var state = (uint)(seed * 2654435761u) | 1;
        for (var i = 0; i < steps; i++)
        {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            yield return sim.Timeout(1 + state % 1000);
        }
    }

    private static IEnumerable<SimEvent> Source(Simulation sim, Resource servers, int customers)
    {
        var random = new Random(1);
        for (var i = 0; i < customers; i++)
        {
            yield return sim.Timeout((long)(-Math.Log(1 - random.NextDouble()) * 1000));
            sim.Process(Customer(sim, servers, (long)(-Math.Log(1 - random.NextDouble()) * 7000)));
        }
    }

    private static IEnumerable<SimEvent> Customer(Simulation sim, Resource servers, long serviceNs)
    {
        using var request = servers.Request();
        yield return request;
        yield return sim.Timeout(serviceNs);
    }
}
