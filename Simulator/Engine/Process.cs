namespace Simulator.Engine;

/// <summary>
/// A process: an iterator method that yields the events it waits for (SimSharp shape).
/// The process is itself an event that succeeds when the iterator ends, or fails with the
/// exception the iterator threw.
/// <para>
/// Faults: when the event a process waited for failed, or the process was interrupted, the
/// process resumes and must call <see cref="HandleFault()"/> before it yields again; a fault
/// left unhandled stops the simulation with its error.
/// </para>
/// </summary>
public sealed class Process : SimEvent
{
    private readonly IEnumerator<SimEvent> steps;
    private readonly Action<SimEvent> resume;
    private SimEvent? target;
    private SimEvent? pendingFault;

    internal Process(Simulation simulation, IEnumerable<SimEvent> body) : base(simulation)
    {
        steps = body.GetEnumerator();
        resume = Resume;
        var start = new SimEvent(simulation);
        start.AddCallback(resume);
        start.Succeed(EventPriority.Urgent);
    }

    /// <summary>True until the iterator has ended.</summary>
    public bool IsAlive => State == EventState.Alive;

    /// <summary>The event the process currently waits for, or null while it runs.</summary>
    public SimEvent? Target => target;

    /// <summary>
    /// Takes responsibility for the fault that resumed the process. Returns false when the
    /// process resumed normally.
    /// </summary>
    public bool HandleFault() => HandleFault(out _);

    public bool HandleFault(out Exception? error)
    {
        error = pendingFault?.Error;
        if (pendingFault is null) return false;
        pendingFault.IsDefused = true;
        pendingFault = null;
        return true;
    }

    /// <summary>
    /// Interrupts the process: it stops waiting for its target and resumes at the current
    /// time, before other events of that instant, with an <see cref="InterruptException"/> fault.
    /// </summary>
    public void Interrupt(object? cause = null)
    {
        if (!IsAlive) throw new InvalidOperationException("Cannot interrupt a process that has finished.");
        if (Simulation.ActiveProcess == this) throw new InvalidOperationException("A process cannot interrupt itself.");
        var interruption = new SimEvent(Simulation);
        interruption.AddCallback(ev =>
        {
            if (!IsAlive)
            {
                ev.IsDefused = true;
                return;
            }
            target?.RemoveCallback(resume);
            Resume(ev);
        });
        interruption.Fail(new InterruptException(cause), EventPriority.Urgent);
    }

    private void Resume(SimEvent cause)
    {
        Simulation.ActiveProcess = this;
        target = null;
        var current = cause;
        while (true)
        {
            pendingFault = current.IsOk ? null : current;
            bool more;
            try
            {
                more = steps.MoveNext();
            }
            catch (Exception error)
            {
                Simulation.ActiveProcess = null;
                steps.Dispose();
                Fail(error, EventPriority.Urgent);
                return;
            }
            if (pendingFault is not null)
            {
                Simulation.ActiveProcess = null;
                throw new SimulationFaultException(
                    $"A process resumed by a failed event did not call HandleFault(): {pendingFault.Error!.Message}",
                    pendingFault.Error!);
            }
            if (!more)
            {
                Simulation.ActiveProcess = null;
                steps.Dispose();
                Succeed(EventPriority.Urgent);
                return;
            }
            var next = steps.Current ?? throw new InvalidOperationException("A process yielded null instead of an event.");
            if (next.IsProcessed)
            {
                current = next;
                continue;
            }
            target = next;
            next.AddCallback(resume);
            Simulation.ActiveProcess = null;
            return;
        }
    }
}

/// <summary>The fault a process sees after <see cref="Process.Interrupt"/>.</summary>
public sealed class InterruptException(object? cause) : Exception($"Interrupted{(cause is null ? "" : $": {cause}")}")
{
    public object? Cause { get; } = cause;
}
