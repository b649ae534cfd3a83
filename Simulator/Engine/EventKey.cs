namespace Simulator.Engine;

/// <summary>
/// Where a scheduled event sits in the queue. Events are processed in ascending
/// (time, priority, sequence) order; the sequence is the insertion counter, so events
/// with equal time and priority are processed first-in, first-out.
/// </summary>
public readonly record struct EventKey(long TimeNs, int Priority, long Sequence);

/// <summary>The one ordering rule of the engine (DESIGN section 4).</summary>
public sealed class EventKeyComparer : IComparer<EventKey>
{
    public static readonly EventKeyComparer Instance = new();

    private EventKeyComparer() { }

    public int Compare(EventKey x, EventKey y)
    {
        if (x.TimeNs != y.TimeNs) return x.TimeNs < y.TimeNs ? -1 : 1;
        if (x.Priority != y.Priority) return x.Priority < y.Priority ? -1 : 1;
        return x.Sequence.CompareTo(y.Sequence);
    }
}

/// <summary>Scheduling priorities: lower runs first among events at the same time.</summary>
public static class EventPriority
{
    /// <summary>Interrupts and process starts: before anything else at the same instant (SimPy's URGENT).</summary>
    public const int Urgent = -1;

    public const int Normal = 0;

    public const int Low = 1;
}
