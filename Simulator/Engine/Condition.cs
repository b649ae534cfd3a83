namespace Simulator.Engine;

/// <summary>
/// Waits for several events: <see cref="Simulation.AllOf(SimEvent[])"/> succeeds when every one has been
/// processed successfully, <see cref="Simulation.AnyOf(SimEvent[])"/> when the first one has. If a watched
/// event fails before the condition is met, the condition fails with that error (and takes
/// the failure over, so the watched event does not also stop the run). The value is the list
/// of watched events processed by the time the condition triggered, in processing order.
/// </summary>
public sealed class Condition : SimEvent<IReadOnlyList<SimEvent>>
{
    private readonly int needed;
    private readonly List<SimEvent> done = [];

    internal Condition(Simulation simulation, IReadOnlyList<SimEvent> events, bool all) : base(simulation)
    {
        needed = all ? events.Count : Math.Min(1, events.Count);
        foreach (var ev in events)
        {
            if (ev.Simulation != simulation) throw new ArgumentException("All events must belong to the same simulation.");
            if (ev.IsProcessed) Observe(ev);
            else ev.AddCallback(Observe);
        }
        if (State == EventState.Alive && done.Count >= needed) Succeed(done);
    }

    private void Observe(SimEvent ev)
    {
        if (State != EventState.Alive) return;
        if (!ev.IsOk)
        {
            ev.IsDefused = true;
            Fail(ev.Error!);
            return;
        }
        done.Add(ev);
        if (done.Count >= needed) Succeed(done);
    }
}
