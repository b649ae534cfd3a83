namespace Simulator.Engine;

/// <summary>
/// A FIFO buffer of items with a capacity. <see cref="Put"/> succeeds once the item is in the
/// store; <see cref="Get"/> succeeds with the oldest item. Waiting puts and gets are served in
/// the order they were made. Invariant: <see cref="Count"/> never exceeds <see cref="Capacity"/>.
/// </summary>
public sealed class Store<T>
{
    private readonly Queue<T> items = new();
    private readonly Queue<(SimEvent Event, T Item)> puts = new();
    private readonly Queue<SimEvent<T>> gets = new();

    public Store(Simulation simulation, int capacity = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Simulation = simulation;
        Capacity = capacity;
    }

    public Simulation Simulation { get; }

    public int Capacity { get; }

    public int Count => items.Count;

    public SimEvent Put(T item)
    {
        var ev = new SimEvent(Simulation);
        puts.Enqueue((ev, item));
        Balance();
        return ev;
    }

    public SimEvent<T> Get()
    {
        var ev = new SimEvent<T>(Simulation);
        gets.Enqueue(ev);
        Balance();
        return ev;
    }

    private void Balance()
    {
        bool moved;
        do
        {
            moved = false;
            while (puts.Count > 0 && items.Count < Capacity)
            {
                var (ev, item) = puts.Dequeue();
                items.Enqueue(item);
                ev.Succeed();
                moved = true;
            }
            while (gets.Count > 0 && items.Count > 0)
            {
                gets.Dequeue().Succeed(items.Dequeue());
                moved = true;
            }
        }
        while (moved);
    }
}
