using Simulator.Engine;

namespace Simulator.Tests.Engine;

/// <summary>An M/M/c queue on the engine: Poisson arrivals, exponential service, c servers.</summary>
internal sealed class MmcQueue
{
    private readonly Simulation sim = new();
    private readonly Resource servers;
    private readonly Random random;
    private readonly double meanInterarrivalNs;
    private readonly double meanServiceNs;
    private readonly int customers;
    private readonly int warmup;
    private double waitSumNs;
    private int measured;
    private double queueAreaNs;
    private long lastChangeNs;
    private long measureStartNs = -1;

    public MmcQueue(int servers, double arrivalRatePerNs, double serviceRatePerNs, int customers, int seed)
    {
        this.servers = new Resource(sim, servers);
        random = new Random(seed);
        meanInterarrivalNs = 1 / arrivalRatePerNs;
        meanServiceNs = 1 / serviceRatePerNs;
        this.customers = customers;
        warmup = customers / 10;
    }

    public double MeanWaitNs => waitSumNs / measured;

    public double MeanQueueLength => queueAreaNs / (sim.Now - measureStartNs);

    public int MaxInUse { get; private set; }

    public long Events => sim.ProcessedEvents;

    public List<(int Id, long StartNs)> Log { get; } = [];

    public MmcQueue Run()
    {
        sim.Process(Source());
        sim.Run();
        return this;
    }

    private long Exponential(double mean) => (long)Math.Round(-Math.Log(1 - random.NextDouble()) * mean);

    private void QueueChanging()
    {
        if (measureStartNs >= 0) queueAreaNs += (double)servers.QueueLength * (sim.Now - lastChangeNs);
        lastChangeNs = sim.Now;
    }

    private IEnumerable<SimEvent> Source()
    {
        for (var id = 0; id < customers; id++)
        {
            yield return sim.Timeout(Exponential(meanInterarrivalNs));
            if (id == warmup)
            {
                measureStartNs = sim.Now;
                lastChangeNs = sim.Now;
            }
            sim.Process(Customer(id));
        }
    }

    private IEnumerable<SimEvent> Customer(int id)
    {
        var arrived = sim.Now;
        QueueChanging();
        using var request = servers.Request();
        yield return request;
        QueueChanging();
        MaxInUse = Math.Max(MaxInUse, servers.InUse);
        if (id >= warmup)
        {
            waitSumNs += sim.Now - arrived;
            measured++;
        }
        Log.Add((id, sim.Now));
        yield return sim.Timeout(Exponential(meanServiceNs));
        QueueChanging();
    }
}
