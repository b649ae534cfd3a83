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
    /// exactly <paramref name="completed"/>'s requests that did not finish in it again, in the same order, one decode token each
    /// (0: not even the next; int.MaxValue: for as long as nothing changes) provided no request finishes before the pass
    /// (the pass in which one does is still the repeat, and the driver completes it as the policy's batch and asks again),
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

    /// <summary>
    /// Asked while the driver repeats the last decision without asking the policy (after <see cref="RepeatablePasses"/>) and
    /// something external has reached the policy since (a prefilled request waits, a swap-out ended, KV arrived): when the
    /// decision <see cref="IBatchPolicy.Schedule"/> would make now is that repeat, followed by requests that joined the running
    /// ones since (one decode token each, needing no new KV block), plus KV pulls, the policy starts those pulls and returns a
    /// batch (valid until its next call) whose entries are the joiners and whose pulls are the pulls; it then vouches for the
    /// repeat with the joiners as <see cref="RepeatablePasses"/> did. Null when it would decide anything else, and then it has
    /// changed nothing (the driver ends the repeat, brings every request up to date and asks Schedule). The requests being
    /// repeated have not been brought up to date: the policy must not read their tokens. <paramref name="growthBlocks"/>: the
    /// KV blocks the repeated pass reserves for its requests' growth; pulls must leave them free, as Schedule's own pulls would
    /// before it preempted. Null is always safe.
    /// </summary>
    ForwardBatch? PullsBesideRepeat(long nowNs, int growthBlocks) => null;

    /// <summary>
    /// Whether <see cref="PullsBesideRepeat"/> can take anything. A driver then also asks <see cref="RepeatablePasses"/> after a pass
    /// during which something reached the policy: the policy answers for the repeat of the pass's own requests, leaving what reached
    /// it to the PullsBesideRepeat that the driver asks before running any repeated pass.
    /// </summary>
    bool TakesChangesBeside => false;
}
