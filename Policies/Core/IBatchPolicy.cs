namespace Policies.Core;

/// <summary>
/// A batching policy for one GPU's serving loop. It sees requests, their KV lengths and the
/// GPU's KV blocks; it decides admission, batch composition and preemption. It knows nothing
/// of time or events, so the Simulator and the RealRunner drive the same object.
/// <para>Driver contract, per forward pass:</para>
/// <list type="number">
/// <item><see cref="Schedule"/> builds the batch (and reserves its KV blocks);</item>
/// <item>the driver executes it, then calls <see cref="Request.Advance"/> on every entry;</item>
/// <item><see cref="Complete"/> lets the policy release what finished.</item>
/// </list>
/// </summary>
public interface IBatchPolicy
{
    /// <summary>A request arrived for this GPU.</summary>
    void Enqueue(Request request);

    /// <summary>The next forward pass; empty when nothing can run now.</summary>
    ForwardBatch Schedule();

    /// <summary>The batch ran and its requests were advanced; release finished requests.</summary>
    void Complete(ForwardBatch batch);

    int WaitingCount { get; }

    int RunningCount { get; }
}
