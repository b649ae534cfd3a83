using Policies.Core;

namespace Policies.Memory;

/// <summary>
/// Owns the KV blocks of one GPU (paged KV, as in vLLM): a free list of logical block ids
/// and, on each request, its block table. Check/act pairs: <see cref="CanReserve"/> and
/// <see cref="Reserve"/>. Invariant: 0 &lt;= FreeBlocks &lt;= TotalBlocks and every block is
/// either free or in exactly one request's table.
/// </summary>
public sealed class KvBlockManager
{
    private readonly Stack<int> free;

    public KvBlockManager(int totalBlocks, int blockSizeTokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(totalBlocks, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSizeTokens, 1);
        TotalBlocks = totalBlocks;
        BlockSizeTokens = blockSizeTokens;
        free = new Stack<int>(Enumerable.Range(0, totalBlocks).Reverse());
    }

    public int TotalBlocks { get; }

    public int BlockSizeTokens { get; }

    public int FreeBlocks => free.Count;

    public int UsedBlocks => TotalBlocks - free.Count;

    public int BlocksFor(int tokens) => (tokens + BlockSizeTokens - 1) / BlockSizeTokens;

    /// <summary>Blocks the request still needs so that it can hold <paramref name="tokens"/> tokens.</summary>
    public int MissingBlocks(Request request, int tokens) => Math.Max(0, BlocksFor(tokens) - request.BlockTable.Count);

    /// <summary>True when the request can grow to <paramref name="tokens"/> tokens and leave <paramref name="reserveBlocks"/> free.</summary>
    public bool CanReserve(Request request, int tokens, int reserveBlocks = 0) =>
        MissingBlocks(request, tokens) + reserveBlocks <= free.Count;

    /// <summary>Grows the request's block table to hold <paramref name="tokens"/> tokens.</summary>
    public void Reserve(Request request, int tokens)
    {
        var missing = MissingBlocks(request, tokens);
        if (missing > free.Count)
            throw new InvalidOperationException($"Request {request.Id} needs {missing} more KV blocks but only {free.Count} are free.");
        for (var i = 0; i < missing; i++) request.BlockTable.Add(free.Pop());
    }

    /// <summary>Returns all of the request's blocks to the free list.</summary>
    public void Free(Request request)
    {
        foreach (var block in request.BlockTable) free.Push(block);
        request.BlockTable.Clear();
    }
}
