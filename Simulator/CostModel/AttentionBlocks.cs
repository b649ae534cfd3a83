namespace Simulator.CostModel;

/// <summary>
/// The thread blocks of one decode-attention kernel launch, in launch order: for each request
/// (batch order), each KV head, each KV partition. Stored run-length encoded per request:
/// a request contributes <c>heads * partitions</c> blocks, all full partitions except the last.
/// Sizes are kept in tokens (integers) and turned into bytes by one multiplication at the end, so
/// the same batch gives the same doubles however its sums were formed (the standing decode path
/// forms them incrementally).
/// </summary>
public sealed class AttentionBlocks
{
    // Per request, in batch order: its KV tokens, partitions and last partition's tokens. Arrays rather than a list of tuples:
    // the closed form walks them several times a pass.
    private int[] kvTokens = new int[16];
    private int[] partitionCounts = new int[16];
    private int[] lastTokens = new int[16];
    private int count;

    /// <summary>Blocks holding a whole partition: (partitions - 1) x heads of each request (none with one block per head).</summary>
    private long fullBlocks;

    /// <summary>Scratch for the selections, reused.</summary>
    private int[] lengths = new int[16];

    public AttentionBlocks(int kvHeads, int partitionTokens, double bytesPerToken) => Configure(kvHeads, partitionTokens, bytesPerToken);

    /// <summary>Blocks per request per partition: KV heads, or query heads for kernels with one block per query head.</summary>
    public int KvHeads { get; private set; }

    /// <summary>Tokens per block; int.MaxValue for one block per (request, head).</summary>
    public int PartitionTokens { get; private set; }

    /// <summary>True when every (request, head) is one block (no split-KV).</summary>
    public bool OneBlockPerHead => PartitionTokens == int.MaxValue;

    /// <summary>Bytes one block reads per token (one KV head's K and V).</summary>
    public double BytesPerToken { get; private set; }

    public long BlockCount { get; private set; }

    /// <summary>KV tokens of the batch (each request once, not per head).</summary>
    public long TotalTokens { get; private set; }

    public double TotalBytes => BytesOfRequests(TotalTokens, KvHeads, BytesPerToken);

    /// <summary>Tokens of the largest block.</summary>
    public int LongestBlockTokens { get; private set; }

    public double LongestBlockBytes => LongestBlockTokens * BytesPerToken;

    public int RequestCount => count;

    /// <summary>Bytes of requests holding <paramref name="tokens"/> KV tokens in all, every head read: the one formula both ways of summing use.</summary>
    public static double BytesOfRequests(long tokens, int kvHeads, double bytesPerToken) => (double)tokens * kvHeads * bytesPerToken;

    /// <summary>Empties the launch and sets its shape (a launch's shape depends on its batch: <see cref="AttentionLaunch"/>).</summary>
    public void Configure(int heads, int partitionTokens, double bytesPerToken)
    {
        KvHeads = heads;
        PartitionTokens = partitionTokens;
        BytesPerToken = bytesPerToken;
        Clear();
    }

    public void Clear()
    {
        count = 0;
        fullBlocks = 0;
        lastTokensSum = 0;
        BlockCount = 0;
        TotalTokens = 0;
        LongestBlockTokens = 0;
        ShortestTokens = 0;
    }

    /// <summary>Tokens of every request's last block (each counted once, not per head).</summary>
    private long lastTokensSum;

    public void Add(int kvTokens)
    {
        if (count == this.kvTokens.Length)
        {
            Array.Resize(ref this.kvTokens, 2 * count);
            Array.Resize(ref partitionCounts, 2 * count);
            Array.Resize(ref lastTokens, 2 * count);
        }
        // One block per (request, head) unless split: no division on the common path.
        var partitions = OneBlockPerHead ? 1 : (int)((kvTokens + (long)PartitionTokens - 1) / PartitionTokens);
        var last = kvTokens - (partitions - 1) * PartitionTokens;
        this.kvTokens[count] = kvTokens;
        partitionCounts[count] = partitions;
        lastTokens[count] = last;
        count++;
        BlockCount += (long)partitions * KvHeads;
        fullBlocks += (long)(partitions - 1) * KvHeads;
        lastTokensSum += last;
        TotalTokens += kvTokens;
        ShortestTokens = count == 1 ? kvTokens : Math.Min(ShortestTokens, kvTokens);
        LongestBlockTokens = Math.Max(LongestBlockTokens, Math.Min(kvTokens, PartitionTokens));
    }

    /// <summary>Tokens of the shortest request (0 when empty).</summary>
    public int ShortestTokens { get; private set; }

    /// <summary>
    /// Tokens of the <paramref name="w"/> smallest blocks together (every block when there are fewer). Blocks of one request are
    /// its heads' (equal) and its partitions'; no last block exceeds a partition, so the w smallest are the smallest last blocks,
    /// then whole partitions: O(1) when the shortest request's heads cover w, else one selection, O(requests).
    /// </summary>
    public long SmallestBlocksTokens(long w)
    {
        if (w <= 0 || BlockCount == 0) return 0;
        if (w >= BlockCount) return TotalTokens * KvHeads;
        var lastBlocks = (long)count * KvHeads;
        // Every last block and w - lastBlocks whole partitions.
        if (w > lastBlocks) return KvHeads * lastTokensSum + (w - lastBlocks) * PartitionTokens;
        // With one block per head the shortest request's heads are the smallest blocks; a split request's last block may be smaller.
        if (OneBlockPerHead && w <= KvHeads) return w * ShortestTokens;
        return SmallestLastBlocksTokens(w);
    }

    /// <summary>
    /// The w smallest last blocks (w at most their number): the heads of the k = w / heads shortest last blocks and w mod heads heads
    /// of the next, so their sum needs the (k+1)-th shortest and the lengths below it: one selection, O(requests), no allocation.
    /// </summary>
    private long SmallestLastBlocksTokens(long w)
    {
        var n = count;
        if (lengths.Length < n) lengths = new int[Math.Max(n, 2 * lengths.Length)];
        Array.Copy(lastTokens, lengths, n);
        var whole = (int)(w / KvHeads);
        var rest = w - (long)whole * KvHeads;
        // The (whole+1)-th shortest (index whole): every length below it is among the shortest `whole`, ties fill up the rest.
        var pivot = Metrics.OrderStatistics.SelectInPlace(lengths.AsSpan(0, n), Math.Min(whole, n - 1));
        long below = 0, countBelow = 0;
        for (var i = 0; i < n; i++)
            if (lengths[i] < pivot)
            {
                below += lengths[i];
                countBelow++;
            }
        return KvHeads * (below + (whole - countBelow) * (long)pivot) + rest * pivot;
    }

    /// <summary>Request <paramref name="i"/>'s KV tokens (batch order).</summary>
    public int TokensOf(int i) => kvTokens[i];

    /// <summary>Every block's bytes, in launch order.</summary>
    public IEnumerable<double> InLaunchOrder()
    {
        for (var r = 0; r < count; r++)
        {
            var (partitions, last) = (partitionCounts[r], lastTokens[r]);
            for (var h = 0; h < KvHeads; h++)
                for (var p = 0; p < partitions; p++)
                    yield return (p == partitions - 1 ? last : PartitionTokens) * BytesPerToken;
        }
    }

    /// <summary>
    /// Block tokens counted up to a cap: sum over blocks of min(block tokens, <paramref name="capTokens"/>)
    /// (every head's block counted).
    /// </summary>
    public long TokensCappedAt(int capTokens)
    {
        long sum = 0;
        if (fullBlocks == 0)
        {
            // Every request is one block per head (or one partition): its heads' blocks are its last.
            for (var r = 0; r < count; r++) sum += Math.Min(lastTokens[r], capTokens);
            return KvHeads * sum;
        }
        for (var r = 0; r < count; r++)
        {
            var (tokens, partitions, last) = (kvTokens[r], partitionCounts[r], lastTokens[r]);
            sum += KvHeads * ((partitions - 1) * (long)Math.Min(Math.Min(PartitionTokens, tokens), capTokens) + Math.Min(last, capTokens));
        }
        return sum;
    }

    /// <summary>
    /// The size in tokens of the k-th largest block (k from 1), or 0 when there are fewer blocks. Whole partitions are the largest
    /// blocks (no last block exceeds one): a partition while they number k or more, else a last block, the ceil((k - whole
    /// partitions) / heads)-th longest: one selection, O(requests).
    /// </summary>
    public int KthLargestBlockTokens(long k)
    {
        if (k > BlockCount || k < 1) return 0;
        if (fullBlocks >= k) return PartitionTokens;
        var n = count;
        if (lengths.Length < n) lengths = new int[Math.Max(n, 2 * lengths.Length)];
        Array.Copy(lastTokens, lengths, n);
        var rank = (int)((k - fullBlocks + KvHeads - 1) / KvHeads);
        return Metrics.OrderStatistics.SelectInPlace(lengths.AsSpan(0, n), n - rank);
    }

    /// <summary>Request <paramref name="i"/> (batch order): its block count, largest block and total bytes.</summary>
    internal (long Blocks, double LargestBytes, double RequestBytes) Request(int i)
    {
        var (tokens, partitions) = (kvTokens[i], partitionCounts[i]);
        return ((long)partitions * KvHeads, Math.Min(tokens, PartitionTokens) * BytesPerToken, BytesOfRequests(tokens, KvHeads, BytesPerToken));
    }
}
