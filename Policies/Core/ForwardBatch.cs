namespace Policies.Core;

/// <summary>
/// One request's share of a forward pass: compute <see cref="NewTokens"/> tokens, after which
/// the request's KV holds <see cref="ContextTokens"/> tokens. A decode step has NewTokens = 1;
/// a prefill (or a prefill chunk) has more, or is the request's first pass.
/// </summary>
public readonly record struct BatchEntry(Request Request, int NewTokens, int ContextTokens)
{
    public bool IsPrefill => NewTokens > 1 || ContextTokens == NewTokens;
}

/// <summary>
/// A KV copy into this GPU the policy asks for. From host memory it goes over this GPU's PCIe
/// link, or, when <see cref="StageOnPrefillGpu"/>, over the paired prefill GPU's PCIe link and
/// then NVLink (AlignedServe's GPU-prefetch-for-GPU path). With <see cref="HoldOnPrefillGpu"/> the copy stops
/// in the paired prefill GPU's HBM, in blocks the policy reserved there (AlignedServe's candidate batch buffer);
/// the policy pulls it on over NVLink later.
/// </summary>
public readonly record struct KvPull(Request Request, bool StageOnPrefillGpu = false, bool HoldOnPrefillGpu = false);

/// <summary>
/// A request preempted by swapping: its blocks on this GPU are already free (the decision that preempted it may reuse them), so
/// the KV to copy out is named here: <see cref="Blocks"/>, the block ids it held, when the GPU's manager tracks ids (null otherwise).
/// </summary>
public readonly record struct SwapOut(Request Request, IReadOnlyList<int>? Blocks);

/// <summary>
/// What a policy decided for the next forward pass of one GPU. Policies reuse one instance,
/// so a batch is valid until the policy's next <see cref="IBatchPolicy.Schedule"/> call.
/// </summary>
public sealed class ForwardBatch
{
    public IReadOnlyList<BatchEntry> Entries => entries;

    /// <summary>The entries as a span, for a reader on the per-pass path (no interface call per entry); valid while the batch is unchanged.</summary>
    public ReadOnlySpan<BatchEntry> EntrySpan => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(entries);

    private readonly List<BatchEntry> entries = [];

    /// <summary>Requests that lost their KV while this batch was formed (preemption by recompute).</summary>
    public List<Request> Preempted { get; } = [];

    /// <summary>Requests admitted with blocks reserved here whose KV the driver must copy in.</summary>
    public List<KvPull> Pulls { get; } = [];

    /// <summary>
    /// Requests preempted by swapping: their blocks here are already free; the driver copies their KV
    /// (the blocks each names) to host memory, from where the policy pulls them back in later (<see cref="Pulls"/>).
    /// </summary>
    public List<SwapOut> SwapOuts { get; } = [];

    /// <summary>True when members of two batches run together in this pass (AlignedServe: the old batch's remainder beside the new one).</summary>
    public bool IsBatchSwitch { get; set; }

    /// <summary>True when this pass brings a new batch in (AlignedServe's batch switch as its paper counts it).</summary>
    public bool BringsNewBatch { get; set; }

    public bool IsEmpty => Entries.Count == 0;

    public int TokenCount { get; private set; }

    public void Add(Request request, int newTokens) => Add(new BatchEntry(request, newTokens, request.ComputedTokens + newTokens));

    public void Add(BatchEntry entry)
    {
        entries.Add(entry);
        TokenCount += entry.NewTokens;
    }

    public void Clear()
    {
        entries.Clear();
        Preempted.Clear();
        Pulls.Clear();
        SwapOuts.Clear();
        IsBatchSwitch = false;
        BringsNewBatch = false;
        TokenCount = 0;
    }
}
