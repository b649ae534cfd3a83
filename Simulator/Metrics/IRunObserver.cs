using Policies.Core;

namespace Simulator.Metrics;

/// <summary>
/// Sees what <see cref="MetricsRecorder"/> records, as it records it (the run's timeline, for example
/// <see cref="Tracing.TraceRecorder"/>). The recorder calls it from its own record methods, so the serving loop
/// has no hooks of its own; without an observer those calls cost one null check each.
/// </summary>
public interface IRunObserver
{
    /// <summary>A pass the policy formed ended; <paramref name="batch"/> is valid only during the call.</summary>
    void PassEntries(int gpu, long startNs, ForwardBatch batch);

    /// <summary>A request's first decode pass was a standing batch's (which has no entries for <see cref="PassEntries"/>); called before that pass's <see cref="PassDone"/>.</summary>
    void DecodeStarted(int request);

    /// <summary>Any pass ended (standing passes included); called after <see cref="PassEntries"/> for a formed one.</summary>
    void PassDone(in IterationRecord pass);

    /// <summary>A GPU that was idle since <paramref name="startNs"/> woke at <paramref name="endNs"/>.</summary>
    void Idle(int gpu, long startNs, long endNs);

    void Transfer(in TransferRecord transfer);

    void PoolChanged(long nowNs, int node, long usedBytes);

    /// <summary>A request emitted its last token (during the pass that <see cref="PassDone"/> reports next).</summary>
    void RequestFinished(int request, long firstTokenNs, long finishNs);
}
