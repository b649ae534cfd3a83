using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Simulator.Engine;

/// <summary>Lifecycle of an event; it only ever moves forward.</summary>
public enum EventState
{
    /// <summary>Created, not yet triggered; callbacks may be added.</summary>
    Alive,

    /// <summary>Succeeded or failed and scheduled; its outcome is fixed.</summary>
    Triggered,

    /// <summary>Taken off the queue and its callbacks run; nothing more happens to it.</summary>
    Processed,
}

/// <summary>
/// An event in the simulation (SimSharp/SimPy shape). State machine:
/// <c>Alive -> Triggered -> Processed</c>. <see cref="Succeed"/> or <see cref="Fail"/> moves an
/// alive event to Triggered and schedules it at the current time; when the simulation takes it
/// off the queue its callbacks run once, in the order they were added. A failed event whose
/// failure no process handled (see <see cref="Process.HandleFault()"/>) stops the simulation
/// with its error, so faults are never swallowed.
/// </summary>
public class SimEvent
{
    private Action<SimEvent>? firstCallback;
    private List<Action<SimEvent>>? moreCallbacks;

    public SimEvent(Simulation simulation) => Simulation = simulation;

    public Simulation Simulation { get; }

    public EventState State { get; private set; }

    /// <summary>False once the event has failed.</summary>
    public bool IsOk => Error is null;

    /// <summary>Why the event failed, or null.</summary>
    public Exception? Error { get; private set; }

    /// <summary>Set when some process took responsibility for this event's failure.</summary>
    public bool IsDefused { get; internal set; }

    public bool IsTriggered => State != EventState.Alive;

    public bool IsProcessed => State == EventState.Processed;

    /// <summary>The untyped value the event succeeded with.</summary>
    public virtual object? BoxedValue => null;

    public void AddCallback(Action<SimEvent> callback)
    {
        if (State == EventState.Processed)
            throw new InvalidOperationException("Cannot add a callback to an event that was already processed.");
        if (firstCallback is null) firstCallback = callback;
        else (moreCallbacks ??= []).Add(callback);
    }

    public void RemoveCallback(Action<SimEvent> callback)
    {
        if (firstCallback == callback)
        {
            firstCallback = null;
            if (moreCallbacks is { Count: > 0 })
            {
                firstCallback = moreCallbacks[0];
                moreCallbacks.RemoveAt(0);
            }
        }
        else moreCallbacks?.Remove(callback);
    }

    /// <summary>Triggers the event successfully, to be processed at the current time.</summary>
    public void Succeed(int priority = EventPriority.Normal) => Trigger(null, 0, priority);

    /// <summary>Triggers the event as failed with <paramref name="error"/>.</summary>
    public void Fail(Exception error, int priority = EventPriority.Normal)
    {
        ArgumentNullException.ThrowIfNull(error);
        Trigger(error, 0, priority);
    }

    /// <summary>
    /// Makes a processed event alive again, for an event its one owner reuses instead of allocating a
    /// new one each time (<see cref="Timeout.Restart"/>); nobody else may still hold it.
    /// </summary>
    private protected void Reset()
    {
        if (State != EventState.Processed) ThrowState($"can be reused only after it was processed (it is {State})");
        State = EventState.Alive;
        Error = null;
        IsDefused = false;
    }

    /// <summary>Marks the event triggered and schedules it after <paramref name="delayNs"/>.</summary>
    protected void Trigger(Exception? error, long delayNs, int priority)
    {
        if (State != EventState.Alive) ThrowState("was already triggered");
        Error = error;
        State = EventState.Triggered;
        Simulation.Schedule(this, delayNs, priority);
    }

    /// <summary>Throws out of line: the message is built here, not in every caller that inlines the check (whose frames would clear its builder at each call).</summary>
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowState(string what) => throw new InvalidOperationException($"{GetType().Name} {what}.");

    internal void Process()
    {
        State = EventState.Processed;
        var first = firstCallback;
        var more = moreCallbacks;
        firstCallback = null;
        moreCallbacks = null;
        first?.Invoke(this);
        if (more is not null)
            foreach (var callback in more) callback(this);
        if (Error is not null && !IsDefused)
            throw new SimulationFaultException($"Unhandled failure of {GetType().Name} at t={Simulation.Now} ns: {Error.Message}", Error);
    }
}

/// <summary>An event that carries a value of type <typeparamref name="T"/> when it succeeds.</summary>
public class SimEvent<T> : SimEvent
{
    private T? value;

    public SimEvent(Simulation simulation) : base(simulation) { }

    /// <summary>The value; reading it before the event succeeded is an error.</summary>
    public T Value => State != EventState.Alive && IsOk
        ? value!
        : throw new InvalidOperationException("The event has no value: it has not succeeded.");

    public override object? BoxedValue => State != EventState.Alive && IsOk ? value : null;

    public void Succeed(T result, int priority = EventPriority.Normal)
    {
        value = result;
        Succeed(priority);
    }
}

/// <summary>Thrown out of <see cref="Simulation.Run()"/> when a failure reaches no handler.</summary>
public sealed class SimulationFaultException(string message, Exception inner) : Exception(message, inner);
