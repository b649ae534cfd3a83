namespace Simulator.Metrics;

/// <summary>
/// One forward pass of one GPU as the metrics see it. Times in nanoseconds. <c>BatchSwitch</c>: members of two batches ran
/// together; <c>NewBatch</c>: the pass brought a new batch in (AlignedServe's switch as the paper counts it).
/// </summary>
public readonly record struct IterationRecord(
    int Gpu,
    long StartNs,
    long DurationNs,
    int Seqs,
    int PrefillSeqs,
    int NewTokens,
    long KvTokensSum,
    int KvTokensMax,
    long DenseNs,
    long DecodeAttentionNs,
    long PrefillAttentionNs,
    long BubbleNs,
    int KvBlocksUsed,
    int Waiting,
    int Preempted,
    bool BatchSwitch,
    long HostNs = 0,
    bool NewBatch = false);

/// <summary>One KV copy: what moved, between which places, when it was asked for and when it landed.</summary>
public readonly record struct TransferRecord(int Request, string Kind, string From, string To, long Bytes, long StartNs, long EndNs);

/// <summary>A GPU of the deployment and where its time went.</summary>
public sealed record GpuRecord(int Gpu, int Node, int LocalIndex, string Role)
{
    public long BusyNs { get; internal set; }

    /// <summary>Idle while KV it pulled in was still on the way (batch-level bubble).</summary>
    public long WaitingForKvNs { get; internal set; }

    public int Iterations { get; internal set; }

    public long BubbleNs { get; internal set; }
}
