using Policies.Core;

namespace Policies.Aligned;

/// <summary>
/// The pool's index over KV length (AlignedServe's dynamic quad-tree, here its one-dimensional
/// equivalent: requests are indexed by one key, their KV length, so a binary tree over
/// [1, 65536] splits the key space the way the quad-tree does, one level per halving).
/// Every node counts the requests below it; leaves keep their requests FIFO. Lengths beyond
/// the range share the last leaf. All operations are O(log range) plus the requests touched.
/// </summary>
public sealed class LengthIndex
{
    public const int MaxLength = 65536;
    private const int Leaves = MaxLength;

    private readonly int[] counts = new int[2 * Leaves];
    private readonly Dictionary<int, LinkedList<Request>> leaves = [];
    private readonly Dictionary<Request, (int Leaf, LinkedListNode<Request> Handle)> where = new(ReferenceEqualityComparer.Instance);

    public int Count => counts[1];

    public static int LeafOf(int length) => Math.Clamp(length, 1, MaxLength) - 1;

    public void Add(Request request, int length)
    {
        var leaf = LeafOf(length);
        if (!leaves.TryGetValue(leaf, out var list)) leaves[leaf] = list = new LinkedList<Request>();
        where[request] = (leaf, list.AddLast(request));
        for (var node = leaf + Leaves; node >= 1; node >>= 1) counts[node]++;
    }

    public void Remove(Request request)
    {
        if (!where.Remove(request, out var entry)) throw new InvalidOperationException($"Request {request.Id} is not in the pool index.");
        var (leaf, handle) = entry;
        var list = handle.List!;
        list.Remove(handle);
        if (list.Count == 0) leaves.Remove(leaf);
        for (var node = leaf + Leaves; node >= 1; node >>= 1) counts[node]--;
    }

    /// <summary>
    /// Density-first search: from the root, step into the child holding more requests as long as
    /// it still holds at least <paramref name="kMin"/>. Returns the node (a length range) reached:
    /// the narrowest densest region with enough requests for a batch (the root when the pool
    /// holds fewer than <paramref name="kMin"/>).
    /// </summary>
    public (int Node, int Lo, int Hi) DensestRegion(int kMin)
    {
        var node = 1;
        while (node < Leaves)
        {
            var denser = counts[2 * node] >= counts[2 * node + 1] ? 2 * node : 2 * node + 1;
            if (counts[denser] < kMin) break;
            node = denser;
        }
        var (lo, hi) = Range(node);
        return (node, lo, hi);
    }

    /// <summary>Node ranges in leaf (length) units, 1-based lengths.</summary>
    public static (int Lo, int Hi) Range(int node)
    {
        var depth = 0;
        for (var n = node; n > 1; n >>= 1) depth++;
        var width = Leaves >> depth;
        var first = (node - (1 << depth)) * width;
        return (first + 1, first + width);
    }

    /// <summary>Requests in the node's range in ascending length, FIFO within a length.</summary>
    public IEnumerable<Request> InNode(int node) => Walk(node, ascending: true);

    /// <summary>Requests of the node's parent range that are outside the node itself (its sibling's), nearest lengths first.</summary>
    public IEnumerable<Request> Sibling(int node) => (node & 1) == 0 ? Walk(node + 1, ascending: true) : Walk(node - 1, ascending: false);

    /// <summary>
    /// The node's requests leaf by leaf, jumping over empty stretches through the counts (one iterator, no
    /// recursion): ascending lengths with FIFO order within a length, or the exact reverse.
    /// </summary>
    private IEnumerable<Request> Walk(int node, bool ascending)
    {
        if (counts[node] == 0) yield break;
        var (lo, hi) = Range(node);
        var (first, last) = (lo - 1, hi - 1); // leaf indices
        var leaf = NextNonEmpty(ascending ? first : last, up: ascending);
        while (leaf is { } at && at >= first && at <= last)
        {
            var list = leaves[at];
            if (ascending)
                for (var n = list.First; n is not null; n = n.Next) yield return n.Value;
            else
                for (var n = list.Last; n is not null; n = n.Previous) yield return n.Value;
            if (ascending ? at == last : at == first) yield break;
            leaf = NextNonEmpty(ascending ? at + 1 : at - 1, up: ascending);
        }
    }

    /// <summary>The shortest pooled length at or above <paramref name="length"/>, or null (lengths past <see cref="MaxLength"/> count as it).</summary>
    public int? ShortestAtLeast(int length) => length > MaxLength ? (counts[Leaves + Leaves - 1] > 0 ? MaxLength : null)
        : NextNonEmpty(LeafOf(length), up: true) + 1;

    /// <summary>The request whose length is nearest to <paramref name="length"/> (the shorter on ties), or null.</summary>
    public Request? Nearest(int length)
    {
        if (Count == 0) return null;
        var leaf = LeafOf(length);
        var above = NextNonEmpty(leaf, up: true);
        var below = NextNonEmpty(leaf, up: false);
        var pick = (above, below) switch
        {
            (null, var b) => b,
            (var a, null) => a,
            var (a, b) => a!.Value - leaf < leaf - b!.Value ? a : b,
        };
        return leaves[pick!.Value].First!.Value;
    }

    /// <summary>The nearest non-empty leaf at or above (or at or below) <paramref name="leaf"/>, via the counts.</summary>
    private int? NextNonEmpty(int leaf, bool up)
    {
        var node = leaf + Leaves;
        if (counts[node] > 0) return leaf;
        // Climb until a sibling on the wanted side holds requests, then descend towards the nearest one.
        while (node > 1)
        {
            var isLeft = (node & 1) == 0;
            if (up && isLeft && counts[node + 1] > 0) { node++; break; }
            if (!up && !isLeft && counts[node - 1] > 0) { node--; break; }
            node >>= 1;
        }
        if (node == 1) return null;
        while (node < Leaves) node = up ? (counts[2 * node] > 0 ? 2 * node : 2 * node + 1) : (counts[2 * node + 1] > 0 ? 2 * node + 1 : 2 * node);
        return node - Leaves;
    }
}
