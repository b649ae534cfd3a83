using Policies.Core;

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

/// <summary>A pass's totals as the metrics record them (a standing pass gives them without entries to walk).</summary>
/// <remarks><see cref="BatchSwitch"/>: two batches coexist in the pass; <see cref="NewBatch"/>: it brought a new batch in (a standing batch's never does).</remarks>
public readonly record struct PassTotals(int Seqs, int PrefillSeqs, int NewTokens, long KvTokensSum, int KvTokensMax, int KvBlocksUsed, int Waiting,
    int Preempted, bool BatchSwitch, bool NewBatch = false);

/// <summary>What a KV copy was for, as transfers.csv names it.</summary>
public enum TransferKind
{
    /// <summary>A prefill GPU's KV to its node's host pool (hand-off through the pool).</summary>
    GpuToHost,

    /// <summary>A preempted request's KV to its node's host pool.</summary>
    SwapOut,

    /// <summary>The host pool to a GPU (or to the staging GPU of a prefetch).</summary>
    HostToGpu,

    /// <summary>One GPU to another (peer hand-off, or the second hop of a prefetch).</summary>
    GpuToGpu,
}

public static class TransferKinds
{
    private static readonly string[] Names = Enum.GetValues<TransferKind>().Select(k => Config.ConfigNames.EnumName(k)).ToArray();

    /// <summary>The kind's name in transfers.csv (gpu_to_host, swap_out, host_to_gpu, gpu_to_gpu).</summary>
    public static string Name(TransferKind kind) => Names[(int)kind];
}

/// <summary>One KV copy: what moved, between which places, when it was asked for and when it landed.</summary>
public readonly record struct TransferRecord(int Request, string Kind, string From, string To, long Bytes, long StartNs, long EndNs);

/// <summary>
/// A model instance of the deployment and where its time went: one GPU, or <see cref="Tp"/> GPUs of its node from
/// <see cref="LocalIndex"/> on (tensor parallelism; busy time is then the instance's, which all its GPUs share).
/// </summary>
public sealed record GpuRecord(int Gpu, int Node, int LocalIndex, GpuRole Role)
{
    /// <summary>GPUs of the instance (tensor-parallel degree).</summary>
    public int Tp { get; init; } = 1;

    /// <summary>The role as the outputs name it (colocated, prefill, decode).</summary>
    public string RoleName { get; } = Config.ConfigNames.EnumName(Role);

    public long BusyNs { get; internal set; }

    /// <summary>Idle while KV it pulled in was still on the way (batch-level bubble).</summary>
    public long WaitingForKvNs { get; internal set; }

    public int Iterations { get; internal set; }

    public long BubbleNs { get; internal set; }
}
