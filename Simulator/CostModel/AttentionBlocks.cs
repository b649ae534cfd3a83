namespace Simulator.CostModel;

/// <summary>
/// The thread blocks of one decode-attention kernel launch, in launch order: for each request
/// (batch order), each KV head, each KV partition. Stored run-length encoded per request:
/// a request contributes <c>heads * partitions</c> blocks, all full partitions except the last.
/// </summary>
public sealed class AttentionBlocks
{
    private readonly List<(int KvTokens, int Partitions, int LastPartitionTokens)> requests = [];

    /// <summary>The heap <see cref="KthLargestBlockBytes"/> reuses (an instance field: a thread-static one cost a TLS lookup per pass).</summary>
    private readonly PriorityQueue<(double Bytes, long Count), double> scratch = new();

    public AttentionBlocks(int kvHeads, int partitionTokens, double bytesPerToken)
    {
        KvHeads = kvHeads;
        PartitionTokens = partitionTokens;
        BytesPerToken = bytesPerToken;
    }

    public int KvHeads { get; }

    /// <summary>Tokens per block; int.MaxValue for one block per (request, head).</summary>
    public int PartitionTokens { get; }

    /// <summary>Bytes one KV head reads per token (K and V).</summary>
    public double BytesPerToken { get; }

    public long BlockCount { get; private set; }

    public double TotalBytes { get; private set; }

    public double LongestBlockBytes { get; private set; }

    public int RequestCount => requests.Count;

    public void Clear()
    {
        requests.Clear();
        BlockCount = 0;
        TotalBytes = 0;
        LongestBlockBytes = 0;
    }

    public void Add(int kvTokens)
    {
        // One block per (request, head) unless split: no division on the common path.
        var partitions = PartitionTokens == int.MaxValue ? 1 : (int)((kvTokens + (long)PartitionTokens - 1) / PartitionTokens);
        var last = kvTokens - (partitions - 1) * PartitionTokens;
        requests.Add((kvTokens, partitions, last));
        BlockCount += (long)partitions * KvHeads;
        TotalBytes += (double)kvTokens * KvHeads * BytesPerToken;
        LongestBlockBytes = Math.Max(LongestBlockBytes, Math.Min(kvTokens, PartitionTokens) * BytesPerToken);
    }

    /// <summary>Every block's bytes, in launch order.</summary>
    public IEnumerable<double> InLaunchOrder()
    {
        foreach (var (_, partitions, last) in requests)
            for (var h = 0; h < KvHeads; h++)
                for (var p = 0; p < partitions; p++)
                    yield return (p == partitions - 1 ? last : PartitionTokens) * BytesPerToken;
    }

    /// <summary>
    /// Bytes of the blocks counted up to a cap: sum over blocks of min(bytes, <paramref name="capBytes"/>).
    /// </summary>
    public double BytesCappedAt(double capBytes)
    {
        double sum = 0;
        foreach (var (tokens, partitions, last) in requests)
        {
            var full = Math.Min(PartitionTokens, tokens) * BytesPerToken;
            sum += KvHeads * ((partitions - 1) * Math.Min(full, capBytes) + Math.Min(last * BytesPerToken, capBytes));
        }
        return sum;
    }

    /// <summary>The size of the k-th largest block (k from 1), or 0 when there are fewer blocks.</summary>
    public double KthLargestBlockBytes(long k)
    {
        if (k > BlockCount) return 0;
        // Keep the largest block groups whose counts cover k; the smallest kept group then holds the k-th.
        scratch.Clear();
        long kept = 0;
        foreach (var (tokens, partitions, last) in requests)
        {
            Offer(Math.Min(PartitionTokens, tokens) * BytesPerToken, (long)(partitions - 1) * KvHeads);
            Offer(last * BytesPerToken, KvHeads);
        }
        return scratch.Peek().Bytes;

        void Offer(double bytes, long count)
        {
            if (count == 0) return;
            if (kept >= k && bytes <= scratch.Peek().Bytes) return;
            scratch.Enqueue((bytes, count), bytes);
            kept += count;
            while (kept - scratch.Peek().Count >= k) kept -= scratch.Dequeue().Count;
        }
    }

    /// <summary>Request <paramref name="i"/> (batch order): its block count, largest block and total bytes.</summary>
    internal (long Blocks, double LargestBytes, double RequestBytes) Request(int i)
    {
        var (tokens, partitions, _) = requests[i];
        return ((long)partitions * KvHeads, Math.Min(tokens, PartitionTokens) * BytesPerToken, (double)tokens * KvHeads * BytesPerToken);
    }
}
