using System.Runtime.CompilerServices;

namespace Simulator.Engine;

/// <summary>
/// The clock and the event queue (SimSharp's Environment, kept small). Time is integer
/// nanoseconds. Events are processed in (time, priority, insertion sequence) order, see
/// <see cref="EventKeyComparer"/>; the clock never goes backwards.
/// </summary>
public sealed class Simulation
{
    private readonly PriorityQueue<SimEvent, EventKey> queue = new(EventKeyComparer.Instance);
    private long sequence;

    public Simulation(long startNs = 0) => Now = startNs;

    /// <summary>Current simulated time in nanoseconds.</summary>
    public long Now { get; private set; }

    /// <summary>The process whose iterator is running right now, or null.</summary>
    public Process? ActiveProcess { get; internal set; }

    /// <summary>Events taken off the queue so far (for benchmarks and progress).</summary>
    public long ProcessedEvents { get; private set; }

    /// <summary>Number of events waiting in the queue.</summary>
    public int PendingEvents => queue.Count;

    /// <summary>Time of the next event, or null when the queue is empty.</summary>
    public long? PeekTimeNs => queue.TryPeek(out _, out var key) ? key.TimeNs : null;

    public SimEvent Event() => new(this);

    public SimEvent<T> Event<T>() => new(this);

    public Timeout Timeout(long delayNs, int priority = EventPriority.Normal) => new(this, delayNs, priority);

    /// <summary>
    /// A timeout of <paramref name="delayNs"/> for a process that waits on one every step: the first call
    /// creates it in <paramref name="reused"/>, later calls restart it (<see cref="Engine.Timeout.Restart"/>),
    /// so the steps allocate nothing.
    /// </summary>
    public Timeout Timeout(ref Timeout? reused, long delayNs) => reused = reused is null ? Timeout(delayNs) : reused.Restart(delayNs);

    /// <summary>Starts a process at the current time, before normal events of this instant.</summary>
    public Process Process(IEnumerable<SimEvent> body) => new(this, body);

    public Condition AllOf(params SimEvent[] events) => new(this, events, all: true);

    public Condition AllOf(IReadOnlyList<SimEvent> events) => new(this, events, all: true);

    public Condition AnyOf(params SimEvent[] events) => new(this, events, all: false);

    public Condition AnyOf(IReadOnlyList<SimEvent> events) => new(this, events, all: false);

    /// <remarks>Not inlined: the queue's insertion and its temporaries would otherwise sit in the frame of every caller that triggers an event
    /// (a GPU's serving loop cleared about a kilobyte of stack at each step for them).</remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal void Schedule(SimEvent ev, long delayNs, int priority)
    {
        queue.Enqueue(ev, new EventKey(checked(Now + delayNs), priority, sequence++));
    }

    /// <summary>Processes the next event. Returns false when the queue is empty.</summary>
    public bool Step()
    {
        if (!queue.TryDequeue(out var ev, out var key)) return false;
        Now = key.TimeNs;
        ProcessedEvents++;
        ev.Process();
        return true;
    }

    /// <summary>Runs until no event is left.</summary>
    public void Run()
    {
        while (Step()) { }
    }

    /// <summary>
    /// Runs every event scheduled strictly before <paramref name="untilNs"/>, then sets the
    /// clock to <paramref name="untilNs"/> (events at exactly that time stay queued, as in SimPy).
    /// </summary>
    public void Run(long untilNs)
    {
        if (untilNs < Now) throw new ArgumentOutOfRangeException(nameof(untilNs), untilNs, $"Cannot run back in time (now {Now} ns).");
        while (queue.TryPeek(out _, out var key) && key.TimeNs < untilNs) Step();
        Now = untilNs;
    }

    /// <summary>Runs until <paramref name="stop"/> has been processed or no event is left.</summary>
    public void Run(SimEvent stop)
    {
        while (!stop.IsProcessed && Step()) { }
    }
}
