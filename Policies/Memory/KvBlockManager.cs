using Policies.Core;

namespace Policies.Memory;

/// <summary>A request's blocks on one GPU: how many, and (when the manager tracks them) which.</summary>
internal sealed class BlockTable(bool tracksIds)
{
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
    private int owed;
    private readonly Dictionary<Request, BlockTable> tables = new(ReferenceEqualityComparer.Instance);
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

    /// <summary>Blocks free to reserve: free and not owed (<see cref="Owe"/>).</summary>
    public int FreeBlocks => freeCount - owed;

    public int UsedBlocks => TotalBlocks - FreeBlocks;

    /// <summary>Blocks taken by <see cref="Owe"/> that no table holds yet.</summary>
    public int OwedBlocks => owed;

    public int BlocksFor(int tokens) => (tokens + BlockSizeTokens - 1) / BlockSizeTokens;

    /// <summary>The request's block ids on this GPU, in token order (empty when it holds none); only when <see cref="TracksIds"/>.</summary>
    public IReadOnlyList<int> BlocksOf(Request request)
    {
        if (!TracksIds) throw new InvalidOperationException("This KV block manager counts blocks without ids (trackIds: false).");
        return Held(request)?.Ids ?? NoBlocks;
    }

    /// <summary>How many blocks the request holds here.</summary>
    public int HeldBlocks(Request request) => Held(request)?.Count ?? 0;

    /// <summary>The request's table here, or null; the request remembers the manager that gave it its latest table, so most lookups hash nothing.</summary>
    private BlockTable? Held(Request request) =>
        ReferenceEquals(request.TableOwner, this) ? request.Table : tables.GetValueOrDefault(request);

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
            tables[request] = table = spareTables.Count > 0 ? spareTables.Pop() : new BlockTable(TracksIds);
            // Room for the most the request can hold, so its ids do not regrow as its KV does.
            table.Ids?.EnsureCapacity(Math.Min(BlocksFor(Math.Max(tokens, request.MaxKvTokens)), TotalBlocks));
            request.TableOwner = this;
            request.Table = table;
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
        if (!tables.Remove(request, out var table)) return;
        if (ReferenceEquals(request.TableOwner, this))
        {
            request.TableOwner = null;
            request.Table = null;
        }
        freeCount += table.Count;
        table.Count = 0;
        if (table.Ids is { } ids)
        {
            foreach (var block in ids) free!.Push(block);
            ids.Clear();
        }
        spareTables.Push(table);
    }

    /// <summary>
    /// Takes <paramref name="blocks"/> blocks for requests that grew without their tables being touched (a
    /// standing decode batch counts its members' new blocks this way, one number per pass); they count as
    /// used at once, and <see cref="SettleOwed"/> moves them into the tables. With ids, they are then handed
    /// out in a different order than pass-by-pass reservation would; the counts are the same.
    /// </summary>
    public void Owe(int blocks)
    {
        if (blocks < 0 || blocks > FreeBlocks)
            throw new InvalidOperationException($"Cannot owe {blocks} KV blocks: {FreeBlocks} are free.");
        owed += blocks;
    }

    /// <summary>Grows the request's block table to <paramref name="tokens"/> tokens from blocks already owed for it.</summary>
    public void SettleOwed(Request request, int tokens)
    {
        var missing = MissingBlocks(request, tokens);
        if (missing > owed)
            throw new InvalidOperationException($"Request {request.Id} needs {missing} owed KV blocks but only {owed} are owed.");
        owed -= missing;
        if (!TryReserve(request, tokens))
            throw new InvalidOperationException($"Request {request.Id}: owed blocks were not free.");
    }
}
