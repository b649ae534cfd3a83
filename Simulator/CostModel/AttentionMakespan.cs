namespace Simulator.CostModel;

/// <summary>
/// How long a decode-attention kernel takes, given its blocks. The GPU runs at most
/// <c>slots</c> blocks at once (SMs x resident blocks per SM) and hands the next block, in
/// launch order, to the first slot that frees; running blocks share HBM bandwidth equally and
/// no block exceeds the per-block rate.
/// </summary>
public static class AttentionMakespan
{
    /// <summary>Time the bytes would take spread perfectly: total / min(bandwidth, slots * per-block rate).</summary>
    public static double BalancedNs(AttentionBlocks blocks, double bandwidth, double perBlock, int slots) =>
        blocks.TotalBytes / Math.Min(bandwidth, slots * perBlock);

    /// <summary>
    /// The closed form (DESIGN section 5), the larger of two estimates:
    /// <list type="bullet">
    /// <item>Shared bandwidth with a per-block cap, all blocks starting together: while more than
    /// k = bandwidth / per-block rate blocks run, they share HBM; beyond the k-th largest block's
    /// size x*, at most k remain and each runs at the per-block rate. So T = sum(min(b, x*)) / BW
    /// + (b_max - x*) / rate, exact when every block is resident at once, and never below
    /// max(total / BW, b_max / rate).</item>
    /// <item>Launch order (waves): a block cannot start before the blocks launched <c>slots</c>
    /// places ahead of it have drained, so a request's blocks finish no earlier than (bytes
    /// launched before its last wave) / aggregate rate + its largest block / rate.</item>
    /// </list>
    /// O(requests log k).
    /// </summary>
    public static double ClosedFormNs(AttentionBlocks blocks, double bandwidth, double perBlock, int slots) =>
        Math.Max(SharedNs(blocks, bandwidth, perBlock, slots), LaunchOrderNs(blocks, bandwidth, perBlock, slots));

    private static double SharedNs(AttentionBlocks blocks, double bandwidth, double perBlock, int slots)
    {
        if (blocks.BlockCount == 0) return 0;
        var aggregate = Math.Min(bandwidth, slots * perBlock);
        var saturating = (long)Math.Ceiling(aggregate / perBlock);
        var cap = blocks.KthLargestBlockBytes(saturating);
        return blocks.BytesCappedAt(cap) / aggregate + (blocks.LongestBlockBytes - cap) / perBlock;
    }

    private static double LaunchOrderNs(AttentionBlocks blocks, double bandwidth, double perBlock, int slots)
    {
        if (blocks.BlockCount == 0) return 0;
        var aggregate = Math.Min(bandwidth, slots * perBlock);
        var makespan = Math.Max(blocks.TotalBytes / aggregate, blocks.LongestBlockBytes / perBlock);
        long launched = 0;
        // Blocks drain roughly in launch order: the first m blocks are those of the first requests.
        var drainedRequest = 0;
        long blocksBefore = 0;
        double bytesBefore = 0;
        for (var r = 0; r < blocks.RequestCount; r++)
        {
            var (count, largest, _) = blocks.Request(r);
            // The request's last block is launch number launched + count; it gets a slot once
            // launched + count - slots earlier blocks have finished.
            var mustDrain = launched + count - slots;
            while (drainedRequest < r && blocksBefore + blocks.Request(drainedRequest).Blocks <= mustDrain)
            {
                blocksBefore += blocks.Request(drainedRequest).Blocks;
                bytesBefore += blocks.Request(drainedRequest).RequestBytes;
                drainedRequest++;
            }
            var next = blocks.Request(drainedRequest);
            var partial = mustDrain > blocksBefore ? (mustDrain - blocksBefore) * next.RequestBytes / next.Blocks : 0;
            makespan = Math.Max(makespan, (bytesBefore + partial) / aggregate + largest / perBlock);
            launched += count;
        }
        return makespan;
    }

    /// <summary>
    /// The exact fluid schedule: slots take blocks in launch order; all running blocks progress at
    /// min(per-block rate, bandwidth / running). Because every running block has the same rate,
    /// a block's finish is a threshold on the work done per running block, kept in a min-heap.
    /// O(blocks log slots).
    /// </summary>
    public static double ExactNs(AttentionBlocks blocks, double bandwidth, double perBlock, int slots)
    {
        var running = new PriorityQueue<double, double>(Math.Min(slots, (int)Math.Min(int.MaxValue, blocks.BlockCount)));
        double time = 0, workPerBlock = 0;
        foreach (var bytes in blocks.InLaunchOrder())
        {
            if (running.Count == slots)
            {
                var threshold = running.Dequeue();
                time += (threshold - workPerBlock) / Math.Min(perBlock, bandwidth / slots);
                workPerBlock = threshold;
            }
            running.Enqueue(workPerBlock + bytes, workPerBlock + bytes);
        }
        while (running.Count > 0)
        {
            var rate = Math.Min(perBlock, bandwidth / running.Count);
            var threshold = running.Dequeue();
            time += (threshold - workPerBlock) / rate;
            workPerBlock = threshold;
        }
        return time;
    }
}
