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
    private readonly List<(int KvTokens, int Partitions, int LastPartitionTokens)> requests = [];

    /// <summary>Scratch for <see cref="KthLargestBlockTokens"/>, reused (per instance: a thread-static one cost a TLS lookup per pass).</summary>
    private readonly PriorityQueue<(int Tokens, long Count), int> heap = new();

    private int[] lengths = new int[16];

    /// <summary>Scratch for <see cref="SmallestBlocksTokens"/> with split blocks, reused.</summary>
    private readonly List<(int Tokens, long Count)> groups = [];

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

    public int RequestCount => requests.Count;

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
        requests.Clear();
        BlockCount = 0;
        TotalTokens = 0;
        LongestBlockTokens = 0;
        ShortestTokens = 0;
    }

    public void Add(int kvTokens)
    {
        // One block per (request, head) unless split: no division on the common path.
        var partitions = OneBlockPerHead ? 1 : (int)((kvTokens + (long)PartitionTokens - 1) / PartitionTokens);
        var last = kvTokens - (partitions - 1) * PartitionTokens;
        requests.Add((kvTokens, partitions, last));
        BlockCount += (long)partitions * KvHeads;
        TotalTokens += kvTokens;
        ShortestTokens = requests.Count == 1 ? kvTokens : Math.Min(ShortestTokens, kvTokens);
        LongestBlockTokens = Math.Max(LongestBlockTokens, Math.Min(kvTokens, PartitionTokens));
    }

    /// <summary>Tokens of the shortest request (0 when empty).</summary>
    public int ShortestTokens { get; private set; }

    /// <summary>
    /// Tokens of the <paramref name="w"/> smallest blocks together (every block when there are fewer). Blocks of one request are
    /// its heads' (equal) and its partitions'; O(1) when the shortest request's heads cover w, else a sort of the block sizes.
    /// </summary>
    public long SmallestBlocksTokens(long w)
    {
        if (w <= 0 || BlockCount == 0) return 0;
        if (w >= BlockCount) return TotalTokens * KvHeads;
        // With partitions a longer request's last partition can be the smallest block: only whole requests allow the shortcuts.
        if (OneBlockPerHead) return w <= KvHeads ? w * ShortestTokens : SmallestRequestsTokens(w);
        groups.Clear();
        foreach (var (tokens, partitions, last) in requests)
        {
            if (partitions > 1) groups.Add((Math.Min(PartitionTokens, tokens), (long)(partitions - 1) * KvHeads));
            groups.Add((last, KvHeads));
        }
        groups.Sort((a, b) => a.Tokens.CompareTo(b.Tokens));
        long sum = 0;
        foreach (var (tokens, count) in groups)
        {
            var take = Math.Min(count, w);
            sum += take * tokens;
            w -= take;
            if (w == 0) break;
        }
        return sum;
    }

    /// <summary>
    /// One block per head: the w smallest blocks are the heads of the k = w / heads shortest requests and w mod heads heads of the
    /// next, so their sum needs the (k+1)-th shortest length and the lengths below it: one selection, O(requests), no allocation.
    /// </summary>
    private long SmallestRequestsTokens(long w)
    {
        var n = requests.Count;
        if (lengths.Length < n) lengths = new int[Math.Max(n, 2 * lengths.Length)];
        for (var i = 0; i < n; i++) lengths[i] = requests[i].KvTokens;
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
    public int TokensOf(int i) => requests[i].KvTokens;

    /// <summary>Every block's bytes, in launch order.</summary>
    public IEnumerable<double> InLaunchOrder()
    {
        foreach (var (_, partitions, last) in requests)
            for (var h = 0; h < KvHeads; h++)
                for (var p = 0; p < partitions; p++)
                    yield return (p == partitions - 1 ? last : PartitionTokens) * BytesPerToken;
    }

    /// <summary>
    /// Block tokens counted up to a cap: sum over blocks of min(block tokens, <paramref name="capTokens"/>)
    /// (every head's block counted).
    /// </summary>
    public long TokensCappedAt(int capTokens)
    {
        long sum = 0;
        foreach (var (tokens, partitions, last) in requests)
            sum += KvHeads * ((partitions - 1) * (long)Math.Min(Math.Min(PartitionTokens, tokens), capTokens) + Math.Min(last, capTokens));
        return sum;
    }

    /// <summary>The size in tokens of the k-th largest block (k from 1), or 0 when there are fewer blocks.</summary>
    public int KthLargestBlockTokens(long k)
    {
        if (k > BlockCount || k < 1) return 0;
        if (OneBlockPerHead)
        {
            // Each request is KvHeads equal blocks: the k-th largest block is the ceil(k / heads)-th longest request.
            var n = requests.Count;
            if (lengths.Length < n) lengths = new int[Math.Max(n, 2 * lengths.Length)];
            for (var i = 0; i < n; i++) lengths[i] = requests[i].KvTokens;
            var rank = (int)((k + KvHeads - 1) / KvHeads);
            return Metrics.OrderStatistics.SelectInPlace(lengths.AsSpan(0, n), n - rank);
        }
        // Keep the largest block groups whose counts cover k; the smallest kept group then holds the k-th.
        heap.Clear();
        long kept = 0;
        foreach (var (tokens, partitions, last) in requests)
        {
            Offer(Math.Min(PartitionTokens, tokens), (long)(partitions - 1) * KvHeads);
            Offer(last, KvHeads);
        }
        return heap.Peek().Tokens;

        void Offer(int tokens, long count)
        {
            if (count == 0) return;
            if (kept >= k && tokens <= heap.Peek().Tokens) return;
            heap.Enqueue((tokens, count), tokens);
            kept += count;
            while (kept - heap.Peek().Count >= k) kept -= heap.Dequeue().Count;
        }
    }

    /// <summary>Request <paramref name="i"/> (batch order): its block count, largest block and total bytes.</summary>
    internal (long Blocks, double LargestBytes, double RequestBytes) Request(int i)
    {
        var (tokens, partitions, _) = requests[i];
        return ((long)partitions * KvHeads, Math.Min(tokens, PartitionTokens) * BytesPerToken, BytesOfRequests(tokens, KvHeads, BytesPerToken));
    }
}
