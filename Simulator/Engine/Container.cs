namespace Simulator.Engine;

/// <summary>
/// A level of some integer quantity (bytes, blocks, tokens) between 0 and
/// <see cref="Capacity"/>. <see cref="Put"/> waits until the amount fits; <see cref="Get"/>
/// waits until the amount is there. Each side is served strictly in order (a large waiting
/// request blocks smaller ones behind it, as in SimPy). Invariant: 0 &lt;= Level &lt;= Capacity.
/// </summary>
public sealed class Container
{
    private readonly Queue<(SimEvent Event, long Amount)> puts = new();
    private readonly Queue<(SimEvent Event, long Amount)> gets = new();

    public Container(Simulation simulation, long capacity, long initialLevel = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(initialLevel);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(initialLevel, capacity);
        Simulation = simulation;
        Capacity = capacity;
        Level = initialLevel;
    }

    public Simulation Simulation { get; }

    public long Capacity { get; }

    public long Level { get; private set; }

    public SimEvent Put(long amount) => Enqueue(puts, amount);

    public SimEvent Get(long amount) => Enqueue(gets, amount);

    private SimEvent Enqueue(Queue<(SimEvent, long)> side, long amount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(amount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(amount, Capacity);
        var ev = new SimEvent(Simulation);
        side.Enqueue((ev, amount));
        Balance();
        return ev;
    }

    private void Balance()
    {
        bool moved;
        do
        {
            moved = false;
            while (puts.TryPeek(out var put) && Level + put.Amount <= Capacity)
            {
                puts.Dequeue();
                Level += put.Amount;
                put.Event.Succeed();
                moved = true;
            }
            while (gets.TryPeek(out var get) && Level >= get.Amount)
            {
                gets.Dequeue();
                Level -= get.Amount;
                get.Event.Succeed();
                moved = true;
            }
        }
        while (moved);
    }
}
