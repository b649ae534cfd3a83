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

    public long DelayNs { get; private set; }

    /// <summary>
    /// Schedules this processed timeout again, <paramref name="delayNs"/> from now: a process that waits
    /// on a timeout every step (a GPU's forward passes) reuses one instead of allocating one per step.
    /// </summary>
    public Timeout Restart(long delayNs, int priority = EventPriority.Normal)
    {
        if (delayNs < 0) throw new ArgumentOutOfRangeException(nameof(delayNs), delayNs, "A timeout cannot be negative.");
        Reset();
        DelayNs = delayNs;
        Trigger(null, delayNs, priority);
        return this;
    }
}
