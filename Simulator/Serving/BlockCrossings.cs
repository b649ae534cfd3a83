namespace Simulator.Serving;

/// <summary>
/// When the members of a standing decode batch cross into a new KV block. Pass j gives member r KV for (its length at entry + j)
/// tokens, so r needs a new block first at the pass where that exceeds the blocks it holds, then every block size passes: it
/// crosses at the passes j >= first with j = first (mod block size). The members are kept in runs by that residue, each run by
/// first crossing, so the members crossing in a pass are a prefix of its residue's run, found in O(crossers) per pass.
/// One instance per standing batch object, reused: starting allocates nothing once its arrays have grown.
/// </summary>
public sealed class BlockCrossings(int blockSize)
{
    /// <summary>(residue, first pass, member), sorted by residue, then first pass, then member (the policy's order).</summary>
    private (int Residue, int First, int Member)[] sorted = [];
    /// <summary>The members' crossings in member order, as <see cref="Set"/> gives them, before <see cref="Sort"/>.</summary>
    private (int Residue, int First, int Member)[] unsorted = [];
    /// <summary>Where each residue's run starts (and, at residue + 1, ends).</summary>
    private readonly int[] runStart = new int[blockSize + 1];
    /// <summary>The end of each residue's crossing members so far: those whose first crossing has come.</summary>
    private readonly int[] crossingEnd = new int[blockSize];
    private int count;

    /// <summary>Block size - 1 when the block size is a power of two (a residue is then a mask, not a division), else -1.</summary>
    private readonly int mask = (blockSize & (blockSize - 1)) == 0 ? blockSize - 1 : -1;

    private int Residue(int pass) => mask >= 0 ? pass & mask : pass % blockSize;

    /// <summary>
    /// Starts a batch of <paramref name="members"/> members (then <see cref="Set"/> each, unless <see cref="Move"/>d into place, then
    /// <see cref="Sort"/>).
    /// </summary>
    public void Start(int members)
    {
        Reserve(members);
        count = members;
    }

    /// <summary>Room for <paramref name="members"/> members, keeping those set (the sorted runs are rebuilt by <see cref="Sort"/>).</summary>
    private void Reserve(int members)
    {
        if (sorted.Length >= members) return;
        sorted = new (int, int, int)[Math.Max(members, 2 * sorted.Length)];
        Array.Resize(ref unsorted, sorted.Length);
    }

    /// <summary>
    /// Member <paramref name="from"/> of the last batch is member <paramref name="to"/> (no later than it) of the next, which starts after
    /// the last ran <paramref name="passes"/> passes: its first crossing there is the next it has not made. Then <see cref="Start"/> (which keeps it).
    /// </summary>
    public void Move(int from, int to, int passes)
    {
        var next = NextFirst(unsorted[from].First, passes);
        unsorted[to] = (Residue(next), next, to);
    }

    /// <summary>A member that first crossed at pass <paramref name="first"/>, and every block size passes after, next crosses at this pass once <paramref name="passes"/> have run.</summary>
    private int NextFirst(int first, int passes) =>
        first >= passes ? first - passes : mask >= 0 ? (first - passes) & mask : (blockSize - (passes - first) % blockSize) % blockSize;

    /// <summary>
    /// The batch goes on from its pass <paramref name="passes"/> as pass 0, with <paramref name="members"/> members (those beyond the
    /// current ones then <see cref="Set"/>, then <see cref="Sort"/>): a member's first crossing from there is the next it has not made,
    /// what its blocks and tokens then give (every crossing before was reserved in its pass).
    /// </summary>
    public void Rebase(int passes, int members)
    {
        Reserve(members);
        for (var r = 0; r < count; r++)
        {
            var (_, first, member) = unsorted[r];
            var next = NextFirst(first, passes);
            unsorted[r] = (Residue(next), next, member);
        }
        count = members;
    }

    /// <summary>Member <paramref name="member"/> holds <paramref name="heldBlocks"/> blocks and <paramref name="computedTokens"/> tokens of KV at entry.</summary>
    public void Set(int member, int heldBlocks, int computedTokens)
    {
        // Pass j reserves computed + j + 1 tokens: the first pass needing a new block is where that exceeds the blocks held.
        var first = (int)Math.Min(int.MaxValue, Math.Max(0, (long)heldBlocks * blockSize - computedTokens));
        unsorted[member] = (Residue(first), first, member);
    }

    /// <summary>
    /// Sorts the members into runs by residue (a counting sort, in member order), each run then by first pass (an insertion sort:
    /// a member's first crossing is its residue unless it holds a block size or more of spare room, which few do), none come yet.
    /// </summary>
    public void Sort()
    {
        Array.Clear(runStart);
        for (var r = 0; r < count; r++) runStart[unsorted[r].Residue + 1]++;
        for (var residue = 0; residue < blockSize; residue++) runStart[residue + 1] += runStart[residue];
        Array.Copy(runStart, crossingEnd, blockSize);
        for (var r = 0; r < count; r++) sorted[crossingEnd[unsorted[r].Residue]++] = unsorted[r];
        for (var residue = 0; residue < blockSize; residue++)
            for (var i = runStart[residue] + 1; i < runStart[residue + 1]; i++)
            {
                var item = sorted[i];
                var j = i - 1;
                for (; j >= runStart[residue] && sorted[j].First > item.First; j--) sorted[j + 1] = sorted[j];
                sorted[j + 1] = item;
            }
        Array.Copy(runStart, crossingEnd, blockSize);
    }

    /// <summary>How many members cross into a new block in pass <paramref name="pass"/> (asked in order of passes, each at least once).</summary>
    public int CrossingIn(int pass)
    {
        var residue = Residue(pass);
        ref var end = ref crossingEnd[residue];
        while (end < runStart[residue + 1] && sorted[end].First <= pass) end++;
        return end - runStart[residue];
    }

    /// <summary>The members crossing in pass <paramref name="pass"/> (after <see cref="CrossingIn"/> for it), in the runs' order.</summary>
    public ReadOnlySpan<(int Residue, int First, int Member)> CrossersIn(int pass)
    {
        var residue = Residue(pass);
        return sorted.AsSpan(runStart[residue], crossingEnd[residue] - runStart[residue]);
    }
}
