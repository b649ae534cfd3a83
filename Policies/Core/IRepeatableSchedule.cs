namespace Policies.Core;

/// <summary>
/// What a policy can vouch for beyond the driver contract of <see cref="IBatchPolicy"/>: that its next decisions repeat the
/// last one. A driver may then run those passes without asking it (the simulator's standing decode batches); a policy that
/// does not implement this is asked every pass, which is always correct. Nothing else in a policy serves that speed-up.
/// </summary>
public interface IRepeatableSchedule
{
    /// <summary>
    /// Asked after <see cref="IBatchPolicy.Complete"/>: for how many next passes <see cref="IBatchPolicy.Schedule"/> is certain to return
    /// exactly <paramref name="completed"/>'s requests again, in the same order, one decode token each
    /// (0: not even the next; int.MaxValue: for as long as nothing changes) provided no request finishes,
    /// nothing external reaches the policy (no enqueue, arrival of KV, swap-out end or release), no KV
    /// blocks are freed and the free blocks cover the running requests' growth. 0 is always safe.
    /// </summary>
    int RepeatablePasses(ForwardBatch completed);

    /// <summary>
    /// The time (the <see cref="IBatchPolicy.Schedule"/> clock's) from which the policy may decide differently even if nothing else changes:
    /// a rule that depends on time, such as AlignedServe's starvation guard. Passes vouched for by <see cref="RepeatablePasses"/>
    /// hold only while they start before it. long.MaxValue: no such rule.
    /// </summary>
    long RepeatUntilNs => long.MaxValue;
}
