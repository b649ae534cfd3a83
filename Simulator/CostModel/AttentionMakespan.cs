namespace Simulator.CostModel;

/// <summary>
/// How long a decode-attention kernel takes, given its blocks. The GPU runs at most
/// <c>slots</c> blocks at once (SMs x resident blocks per SM) and hands the next block, in
/// launch order, to the first slot that frees; running blocks share HBM bandwidth equally and
/// no block exceeds the per-block rate.
/// </summary>
public static class AttentionMakespan
{
    /// <summary>Blocks' aggregate rate: HBM bandwidth, or all slots at the per-block rate if that is less.</summary>
    public static double Aggregate(double bandwidth, double perBlock, int slots) => Math.Min(bandwidth, slots * perBlock);

    /// <summary>Time the bytes would take spread perfectly: total / min(bandwidth, slots * per-block rate).</summary>
    public static double BalancedNs(AttentionBlocks blocks, double bandwidth, double perBlock, int slots) =>
        blocks.TotalBytes / Aggregate(bandwidth, perBlock, slots);

    /// <summary>
    /// The closed form (DESIGN section 5), the largest of three estimates:
    /// <list type="bullet">
    /// <item>Shared bandwidth with a per-block cap, all blocks starting together: while more than
    /// k = bandwidth / per-block rate blocks run, they share HBM; beyond the k-th largest block's
    /// size x*, at most k remain and each runs at the per-block rate. So T = sum(min(b, x*)) / BW
    /// + (b_max - x*) / rate, exact when every block is resident at once, and never below
    /// max(total / BW, b_max / rate).</item>
    /// <item>Launch order (waves): a block cannot start before the blocks launched <c>slots</c>
    /// places ahead of it have drained, so a request's blocks finish no earlier than (bytes
    /// launched before its last wave) / aggregate rate + its largest block / rate.</item>
    /// <item>Waves: with n blocks on <c>slots</c> slots some slot runs at least w = ceil(n / slots) of them one after another,
    /// at best the w smallest, each at no more than the per-block rate. Exact for equal blocks,
    /// where the launch-order estimate lets waiting blocks start before any running one has finished.</item>
    /// </list>
    /// O(requests) with one block per head, O(requests log k) with split-KV. <paramref name="launchOrder"/> false drops the
    /// launch-order and wave estimates, for plans that deal their chunks longest-first over a persistent grid (FlashInfer).
    /// </summary>
    public static double ClosedFormNs(AttentionBlocks blocks, double bandwidth, double perBlock, int slots, bool launchOrder = true) =>
        launchOrder
            ? WithWaves(Math.Max(SharedNs(blocks, bandwidth, perBlock, slots), LaunchOrderNs(blocks, bandwidth, perBlock, slots)), blocks, perBlock, slots)
            : Math.Max(SharedNs(blocks, bandwidth, perBlock, slots),
                FloorNs(blocks.TotalBytes, blocks.LongestBlockTokens, blocks.BytesPerToken, bandwidth, perBlock, slots));

    /// <summary>The larger of an estimate and the wave bound, skipping the bound's selection when waves x the largest block cannot exceed it.</summary>
    private static double WithWaves(double estimate, AttentionBlocks blocks, double perBlock, int slots)
    {
        var waves = Waves(blocks.BlockCount, slots);
        if (waves <= 1 || WavesNs(waves * (long)blocks.LongestBlockTokens, blocks.BytesPerToken, perBlock) <= estimate) return estimate;
        return Math.Max(estimate, WavesNs(blocks, perBlock, slots));
    }

    /// <summary>Blocks one slot must run in sequence: ceil(blocks / slots).</summary>
    public static long Waves(long blockCount, int slots) => (blockCount + slots - 1) / slots;

    /// <summary>The wave bound: the ceil(n / slots) smallest blocks at the per-block rate, back to back.</summary>
    public static double WavesNs(AttentionBlocks blocks, double perBlock, int slots)
    {
        var waves = Waves(blocks.BlockCount, slots);
        return waves <= 1 ? 0 : WavesNs(blocks.SmallestBlocksTokens(waves), blocks.BytesPerToken, perBlock);
    }

    /// <summary>The wave bound from its sum (in block tokens): the formula both the per-pass and the incremental path use.</summary>
    public static double WavesNs(long smallestBlocksTokens, double bytesPerToken, double perBlock) => smallestBlocksTokens * bytesPerToken / perBlock;

    /// <summary>Blocks that saturate HBM together: ceil(aggregate / per-block rate).</summary>
    public static long SaturatingBlocks(double bandwidth, double perBlock, int slots) =>
        (long)Math.Ceiling(Aggregate(bandwidth, perBlock, slots) / perBlock);

    private static double SharedNs(AttentionBlocks blocks, double bandwidth, double perBlock, int slots)
    {
        if (blocks.BlockCount == 0) return 0;
        var cap = blocks.KthLargestBlockTokens(SaturatingBlocks(bandwidth, perBlock, slots));
        return SharedNs(blocks.TokensCappedAt(cap), blocks.LongestBlockTokens, cap, blocks.BytesPerToken, bandwidth, perBlock, slots);
    }

    /// <summary>The shared-bandwidth estimate from its sums (in block tokens): the formula both the per-pass and the incremental path use.</summary>
    public static double SharedNs(long cappedBlockTokens, int longestBlockTokens, int capTokens, double bytesPerToken, double bandwidth, double perBlock, int slots) =>
        (double)cappedBlockTokens * bytesPerToken / Aggregate(bandwidth, perBlock, slots) + (double)(longestBlockTokens - capTokens) * bytesPerToken / perBlock;

    /// <summary>The floor every estimate keeps: total bytes at the aggregate rate, the largest block at the per-block rate.</summary>
    public static double FloorNs(double totalBytes, int longestBlockTokens, double bytesPerToken, double bandwidth, double perBlock, int slots) =>
        Math.Max(totalBytes / Aggregate(bandwidth, perBlock, slots), longestBlockTokens * bytesPerToken / perBlock);

    private static double LaunchOrderNs(AttentionBlocks blocks, double bandwidth, double perBlock, int slots)
    {
        if (blocks.BlockCount == 0) return 0;
        var makespan = FloorNs(blocks.TotalBytes, blocks.LongestBlockTokens, blocks.BytesPerToken, bandwidth, perBlock, slots);
        return blocks.OneBlockPerHead
            ? Math.Max(makespan, LaunchOrderPerHeadNs(blocks, bandwidth, perBlock, slots))
            : Math.Max(makespan, LaunchOrderSplitNs(blocks, bandwidth, perBlock, slots));
    }

    /// <summary>
    /// The launch-order bound with one block per (request, head): request r's last block is launch
    /// number (r + 1) * heads, so it starts once mustDrain = (r + 1) * heads - slots blocks have drained:
    /// the first d = min(r, mustDrain / heads) requests whole and mustDrain - d * heads blocks of request d.
    /// Only requests with mustDrain &gt; 0 can exceed <see cref="FloorNs"/>.
    /// <para>The drained tokens (the first mustDrain blocks in launch order) never shrink along the batch, so the requests are walked
    /// from the last: once a request's term with the longest request's block in place of its own cannot exceed the largest so far,
    /// no earlier one can (every step of the formula rounds monotonically), and the walk stops. The same maximum, with fewer divisions.</para>
    /// </summary>
    private static double LaunchOrderPerHeadNs(AttentionBlocks blocks, double bandwidth, double perBlock, int slots)
    {
        var heads = blocks.KvHeads;
        var first = FirstWaveBound(heads, slots);
        var last = blocks.RequestCount - 1;
        if (last < first) return 0;
        double makespan = 0;
        var d = (int)Math.Min(last, ((long)(last + 1) * heads - slots) / heads);
        long prefix = 0; // tokens of requests [0, d)
        for (var q = 0; q < d; q++) prefix += blocks.TokensOf(q);
        var longest = blocks.LongestBlockTokens;
        for (var r = last; r >= first; r--)
        {
            var mustDrain = (long)(r + 1) * heads - slots;
            var drained = (int)Math.Min(r, mustDrain / heads);
            while (d > drained) prefix -= blocks.TokensOf(--d);
            var drainedTokens = heads * prefix + (mustDrain - (long)d * heads) * blocks.TokensOf(d);
            if (PerHeadTermNs(drainedTokens, longest, blocks.BytesPerToken, bandwidth, perBlock, slots) <= makespan) break;
            makespan = Math.Max(makespan, PerHeadTermNs(drainedTokens, blocks.TokensOf(r), blocks.BytesPerToken, bandwidth, perBlock, slots));
        }
        return makespan;
    }

    /// <summary>The first request whose last block waits for a slot: (r + 1) * heads &gt; slots.</summary>
    public static int FirstWaveBound(int heads, int slots) => slots / heads;

    /// <summary>
    /// One request's launch-order bound, one block per head: <paramref name="drainedBlockTokens"/> block tokens
    /// drain at the aggregate rate before its last wave starts, then its block (<paramref name="requestTokens"/>)
    /// runs at the per-block rate. The formula both the per-pass and the incremental path use.
    /// </summary>
    public static double PerHeadTermNs(long drainedBlockTokens, int requestTokens, double bytesPerToken, double bandwidth, double perBlock, int slots) =>
        (double)drainedBlockTokens * bytesPerToken / Aggregate(bandwidth, perBlock, slots) + (double)requestTokens * bytesPerToken / perBlock;

    /// <summary>
    /// One request's launch-order bound with split KV: the requests launched before its last wave drain whole
    /// (<paramref name="tokensBefore"/>) and <paramref name="partialBlocks"/> of the next one's <paramref name="partialRequestBlocks"/>
    /// blocks (its <paramref name="partialTokens"/> spread evenly over them) at the aggregate rate, then its largest block
    /// (<paramref name="largestBlockTokens"/>) runs at the per-block rate. The formula both the per-pass and the incremental path use.
    /// </summary>
    public static double SplitTermNs(long tokensBefore, long partialBlocks, int partialTokens, long partialRequestBlocks, int largestBlockTokens,
        int heads, double bytesPerToken, double aggregate, double perBlock)
    {
        var partial = partialBlocks > 0 ? partialBlocks * AttentionBlocks.BytesOfRequests(partialTokens, heads, bytesPerToken) / partialRequestBlocks : 0;
        var largest = largestBlockTokens * bytesPerToken;
        return (AttentionBlocks.BytesOfRequests(tokensBefore, heads, bytesPerToken) + partial) / aggregate + largest / perBlock;
    }

    private static double LaunchOrderSplitNs(AttentionBlocks blocks, double bandwidth, double perBlock, int slots)
    {
        var aggregate = Aggregate(bandwidth, perBlock, slots);
        double makespan = 0;
        long launched = 0;
        // Blocks drain roughly in launch order: the first m blocks are those of the first requests.
        var drainedRequest = 0;
        long blocksBefore = 0, tokensBefore = 0;
        for (var r = 0; r < blocks.RequestCount; r++)
        {
            var count = blocks.Request(r).Blocks;
            // The request's last block is launch number launched + count; it gets a slot once
            // launched + count - slots earlier blocks have finished.
            var mustDrain = launched + count - slots;
            while (drainedRequest < r && blocksBefore + blocks.Request(drainedRequest).Blocks <= mustDrain)
            {
                blocksBefore += blocks.Request(drainedRequest).Blocks;
                tokensBefore += blocks.TokensOf(drainedRequest);
                drainedRequest++;
            }
            makespan = Math.Max(makespan, SplitTermNs(tokensBefore, mustDrain - blocksBefore, blocks.TokensOf(drainedRequest),
                blocks.Request(drainedRequest).Blocks, Math.Min(blocks.TokensOf(r), blocks.PartitionTokens), blocks.KvHeads, blocks.BytesPerToken,
                aggregate, perBlock));
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
