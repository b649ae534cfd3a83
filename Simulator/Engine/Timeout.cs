namespace Simulator.Engine;

/// <summary>An event that succeeds by itself after a delay; triggered from birth.</summary>
public sealed class Timeout : SimEvent
{
    public Timeout(Simulation simulation, long delayNs, int priority = EventPriority.Normal) : base(simulation)
    {
        if (delayNs < 0) throw new ArgumentOutOfRangeException(nameof(delayNs), delayNs, "A timeout cannot be negative.");
        DelayNs = delayNs;
        Trigger(null, delayNs, priority);
    }

    public long DelayNs { get; }
}
