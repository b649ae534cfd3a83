using Policies.Core;

namespace Policies.Memory;

/// <summary>A request's blocks on one GPU: whose, how many, and (when the manager tracks them) which.</summary>
internal sealed class BlockTable(bool tracksIds)
{
    public Request? Owner;

    public int Count;

    public readonly List<int>? Ids = tracksIds ? [] : null;
}

/// <summary>
/// Owns the KV blocks of one GPU (paged KV, as in vLLM): a free list of logical block ids
/// and each request's block table on this GPU (a request moving between GPUs holds a table on
/// each while its KV is copied). Check/act pairs: <see cref="CanReserve"/> and
/// <see cref="Reserve"/>. Invariant: 0 &lt;= FreeBlocks &lt;= TotalBlocks and every block is
/// either free or in exactly one request's table.
/// <para>Without ids (<c>trackIds: false</c>, what the simulator's cost model needs) tables and the free
/// list are counts, so reserving or freeing any number of blocks is O(1); with ids (a backend that
/// places KV in device memory by block, RealRunner) they are lists of block ids.</para>
/// </summary>
public sealed class KvBlockManager
{
    private static readonly List<int> NoBlocks = [];
    private readonly Stack<int>? free;
    private int freeCount;
    /// <summary>Tables by request id (an integer key hashes in a multiply, with no comparer to call); the request is checked, since ids need not be unique.</summary>
    private readonly Dictionary<int, BlockTable> byId = [];
    /// <summary>Tables of requests whose id another request's table holds in <see cref="byId"/>: usually empty.</summary>
    private readonly Dictionary<Request, BlockTable> others = new(ReferenceEqualityComparer.Instance);
    private readonly Stack<BlockTable> spareTables = new();

    public KvBlockManager(int totalBlocks, int blockSizeTokens, bool trackIds = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(totalBlocks, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSizeTokens, 1);
        TotalBlocks = totalBlocks;
        BlockSizeTokens = blockSizeTokens;
        TracksIds = trackIds;
        freeCount = totalBlocks;
        if (trackIds) free = new Stack<int>(Enumerable.Range(0, totalBlocks).Reverse());
    }

    public int TotalBlocks { get; }

    public int BlockSizeTokens { get; }

    /// <summary>Whether tables hold block ids (<see cref="BlocksOf"/>), not only counts.</summary>
    public bool TracksIds { get; }

    /// <summary>Blocks free to reserve.</summary>
    public int FreeBlocks => freeCount;

    public int UsedBlocks => TotalBlocks - FreeBlocks;

    public int BlocksFor(int tokens) => (tokens + BlockSizeTokens - 1) / BlockSizeTokens;

    /// <summary>The request's block ids on this GPU, in token order (empty when it holds none); only when <see cref="TracksIds"/>.</summary>
    public IReadOnlyList<int> BlocksOf(Request request)
    {
        if (!TracksIds) throw new InvalidOperationException("This KV block manager counts blocks without ids (trackIds: false).");
        return Held(request)?.Ids ?? NoBlocks;
    }

    /// <summary>How many blocks the request holds here.</summary>
    public int HeldBlocks(Request request) => Held(request)?.Count ?? 0;

    /// <summary>The request's table here, or null.</summary>
    private BlockTable? Held(Request request)
    {
        if (byId.TryGetValue(request.Id, out var table) && ReferenceEquals(table.Owner, request)) return table;
        return others.Count == 0 ? null : others.GetValueOrDefault(request);
    }

    private void Add(Request request, BlockTable table)
    {
        table.Owner = request;
        if (!byId.TryAdd(request.Id, table)) others[request] = table;
    }

    private bool Remove(Request request, out BlockTable table)
    {
        if (byId.TryGetValue(request.Id, out var indexed) && ReferenceEquals(indexed.Owner, request))
        {
            byId.Remove(request.Id);
            table = indexed;
            return true;
        }
        return others.Remove(request, out table!);
    }

    /// <summary>Blocks the request still needs so that it can hold <paramref name="tokens"/> tokens.</summary>
    public int MissingBlocks(Request request, int tokens) => Math.Max(0, BlocksFor(tokens) - HeldBlocks(request));

    /// <summary>True when the request can grow to <paramref name="tokens"/> tokens and leave <paramref name="reserveBlocks"/> free.</summary>
    public bool CanReserve(Request request, int tokens, int reserveBlocks = 0) =>
        MissingBlocks(request, tokens) + reserveBlocks <= FreeBlocks;

    /// <summary>Grows the request's block table to hold <paramref name="tokens"/> tokens.</summary>
    public void Reserve(Request request, int tokens)
    {
        if (!TryReserve(request, tokens))
            throw new InvalidOperationException($"Request {request.Id} needs {MissingBlocks(request, tokens)} more KV blocks but only {FreeBlocks} are free.");
    }

    /// <summary><see cref="CanReserve"/> and, when it can, <see cref="Reserve"/> in one lookup.</summary>
    public bool TryReserve(Request request, int tokens, int reserveBlocks = 0)
    {
        var table = Held(request);
        var missing = Math.Max(0, BlocksFor(tokens) - (table?.Count ?? 0));
        if (missing + reserveBlocks > FreeBlocks) return false;
        if (missing == 0) return true;
        if (table is null)
        {
            table = spareTables.Count > 0 ? spareTables.Pop() : new BlockTable(TracksIds);
            Add(request, table);
            // Room for the most the request can hold, so its ids do not regrow as its KV does.
            table.Ids?.EnsureCapacity(Math.Min(BlocksFor(Math.Max(tokens, request.MaxKvTokens)), TotalBlocks));
        }
        Take(table, missing);
        return true;
    }

    private void Take(BlockTable table, int blocks)
    {
        table.Count += blocks;
        freeCount -= blocks;
        if (table.Ids is { } ids)
            for (var i = 0; i < blocks; i++) ids.Add(free!.Pop());
    }

    /// <summary>Returns all of the request's blocks to the free list.</summary>
    public void Free(Request request)
    {
        if (!Remove(request, out var table)) return;
        table.Owner = null;
        freeCount += table.Count;
        table.Count = 0;
        if (table.Ids is { } ids)
        {
            foreach (var block in ids) free!.Push(block);
            ids.Clear();
        }
        spareTables.Push(table);
    }
}
