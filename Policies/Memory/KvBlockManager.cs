using Policies.Core;

namespace Policies.Memory;

/// <summary>
/// Owns the KV blocks of one GPU (paged KV, as in vLLM): a free list of logical block ids
/// and each request's block table on this GPU (a request moving between GPUs holds a table on
/// each while its KV is copied). Check/act pairs: <see cref="CanReserve"/> and
/// <see cref="Reserve"/>. Invariant: 0 &lt;= FreeBlocks &lt;= TotalBlocks and every block is
/// either free or in exactly one request's table.
/// </summary>
public sealed class KvBlockManager
{
    private static readonly List<int> NoBlocks = [];
    private readonly Stack<int> free;
    private readonly Dictionary<Request, List<int>> tables = new(ReferenceEqualityComparer.Instance);
    private readonly Stack<List<int>> spareTables = new();

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

    /// <summary>Blocks free to reserve: on the free list and not owed (<see cref="Owe"/>).</summary>
    public int FreeBlocks => free.Count - owed;

    public int UsedBlocks => TotalBlocks - FreeBlocks;

    /// <summary>Blocks taken by <see cref="Owe"/> that no table holds yet.</summary>
    public int OwedBlocks => owed;

    private int owed;

    /// <summary>
    /// Takes <paramref name="blocks"/> blocks for requests that grew without their tables being touched (a
    /// standing decode batch counts its members' new blocks this way, one number per pass); they count as
    /// used at once, and <see cref="SettleOwed"/> moves them into the tables. Block ids are then handed out
    /// in a different order than pass-by-pass reservation would; the counts are the same.
    /// </summary>
    public void Owe(int blocks)
    {
        if (blocks < 0 || blocks > FreeBlocks)
            throw new InvalidOperationException($"Cannot owe {blocks} KV blocks: {FreeBlocks} are free.");
        owed += blocks;
    }

    /// <summary>Grows the request's table to <paramref name="tokens"/> tokens from blocks already owed for it.</summary>
    public void SettleOwed(Request request, int tokens)
    {
        var missing = MissingBlocks(request, tokens);
        if (missing > owed)
            throw new InvalidOperationException($"Request {request.Id} needs {missing} owed KV blocks but only {owed} are owed.");
        owed -= missing;
        if (!TryReserve(request, tokens))
            throw new InvalidOperationException($"Request {request.Id}: owed blocks were not on the free list.");
    }

    public int BlocksFor(int tokens) => (tokens + BlockSizeTokens - 1) / BlockSizeTokens;

    /// <summary>The request's block table on this GPU, in token order (empty when it holds none).</summary>
    public IReadOnlyList<int> BlocksOf(Request request) => Held(request) ?? NoBlocks;

    /// <summary>The request's table here, or null; the request remembers the manager that gave it its latest table, so most lookups hash nothing.</summary>
    private List<int>? Held(Request request) =>
        ReferenceEquals(request.TableOwner, this) ? request.Table : tables.GetValueOrDefault(request);

    /// <summary>Blocks the request still needs so that it can hold <paramref name="tokens"/> tokens.</summary>
    public int MissingBlocks(Request request, int tokens) => Math.Max(0, BlocksFor(tokens) - (Held(request)?.Count ?? 0));

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
        if (missing + reserveBlocks > free.Count - owed) return false;
        if (missing == 0) return true;
        if (table is null)
        {
            // Room for the most the request can hold, so its table does not regrow as its KV does.
            tables[request] = table = spareTables.Count > 0 ? spareTables.Pop() : [];
            table.EnsureCapacity(Math.Min(BlocksFor(Math.Max(tokens, request.MaxKvTokens)), TotalBlocks));
            request.TableOwner = this;
            request.Table = table;
        }
        for (var i = 0; i < missing; i++) table.Add(free.Pop());
        return true;
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
        foreach (var block in table) free.Push(block);
        table.Clear();
        spareTables.Push(table);
    }
}
