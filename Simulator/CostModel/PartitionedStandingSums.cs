namespace Simulator.CostModel;

/// <summary>
/// The closed form's sums for a standing batch whose launch splits KV into partitions of <see cref="StandingShape.PartitionTokens"/>
/// (vLLM's PagedAttention v2, FlashAttention-2's split-KV, the generic split kernel): what <see cref="AttentionMakespan.ClosedFormNs"/>
/// reads from the batch's blocks, per pass, without the blocks.
/// <para>Between partition crossings (a member's partition count changes only when its KV passes a multiple of the partition) every
/// member keeps its blocks' count and only its last partition grows, by a token a pass: the k-th largest block and the sums capped at
/// it, the smallest blocks of the wave bound, and each request's launch-order term move by known amounts (the terms along lines in
/// the pass). So the sums are built exactly (<see cref="AttentionBlocks"/>, as a priced pass builds them) at the first pass of such a
/// segment, O(requests log requests), and shifted for its other passes. A segment lasts the partition over the batch size passes on
/// average, so rebuilding costs about requests x log / partition per pass.</para>
/// <para>The launch-order bound is a maximum of lines whose slopes do not grow along the batch (a single-partition request's last block
/// grows, a split one's does not), so instead of an upper envelope the segment keeps the few lines that can reach the maximum: those
/// whose larger end is within 1e-9 of the largest smaller end (no line exceeds both its ends; a line lower than another line's lower end
/// by more than rounding never wins). Each pass evaluates those exactly, through the formula a priced pass uses
/// (<see cref="AttentionMakespan.SplitTermNs"/>), so the maximum is the same double.</para>
/// </summary>
public sealed class PartitionedStandingSums : IStandingLaunchSums
{
    /// <summary>Relative margin under which a line is kept as a candidate: far above the formula's rounding (about 1e-15).</summary>
    private const double CandidateMargin = 1e-9;

    private readonly AttentionBlocks reference = new(1, 1, 1);
    private StandingShape shape;
    private int[] lengths0 = [];
    private int count, lastPass;

    // The current segment: passes [from, to], every member's partition count fixed.
    private int from, to;
    private long capped0, cappedRate, smallest0, smallestRate, waves;
    private int cap0, capRate;

    private Line[] lines = [];
    private double[] highest = [];
    private int candidates;

    /// <summary>One request's launch-order term over the segment (at its first pass; the drained and partial requests grow a token a pass).</summary>
    private readonly record struct Line(long TokensBefore, int Drained, long PartialBlocks, int PartialTokens, long PartialRequestBlocks, int RequestTokens);

    /// <summary>Lines kept as candidates in the current segment (for tests and measurement).</summary>
    public int Candidates => candidates;

    /// <summary>Segments built since <see cref="Start"/> (for tests and measurement).</summary>
    public int Segments { get; private set; }

    /// <summary>
    /// Starts the sums of a batch whose members hold <paramref name="lengths0"/> KV tokens in its first pass (pass 0) and grow by a
    /// token a pass, for passes 0 to <paramref name="lastPass"/>.
    /// </summary>
    public void Start(ReadOnlySpan<int> lengths0, StandingShape shape, int lastPass)
    {
        if (shape.PartitionTokens == int.MaxValue) throw new ArgumentException("The launch has one block per head: no partitions.", nameof(shape));
        this.shape = shape;
        this.lastPass = lastPass;
        count = lengths0.Length;
        if (this.lengths0.Length < count) this.lengths0 = new int[Math.Max(count, 2 * this.lengths0.Length)];
        lengths0.CopyTo(this.lengths0);
        if (lines.Length < count)
        {
            lines = new Line[Math.Max(count, 2 * lines.Length)];
            highest = new double[lines.Length];
        }
        Segments = 0;
        Build(0);
    }

    /// <summary>Block tokens capped at the k-th largest block, and that cap, in pass <paramref name="pass"/> (cap 0: fewer blocks than k).</summary>
    public (long CappedBlockTokens, int CapTokens) Capped(int pass)
    {
        var t = Offset(pass);
        return cap0 == 0 ? (0, 0) : (capped0 + cappedRate * t, cap0 + capRate * t);
    }

    /// <summary>The wave bound of pass <paramref name="pass"/> (0 when every block gets a slot at once).</summary>
    public double WavesNs(int pass)
    {
        var t = Offset(pass);
        return waves <= 1 ? 0 : AttentionMakespan.WavesNs(smallest0 + smallestRate * t, shape.BytesPerToken, shape.PerBlock);
    }

    /// <summary>The largest launch-order term of pass <paramref name="pass"/> (0 when none can exceed the floor).</summary>
    public double LaunchOrderNs(int pass)
    {
        var t = Offset(pass);
        var best = 0.0;
        for (var i = 0; i < candidates; i++) best = Math.Max(best, Term(lines[i], t));
        return best;
    }

    /// <summary>Passes since the segment's first, building the segment that holds <paramref name="pass"/> when it is past the current one.</summary>
    private int Offset(int pass)
    {
        if (pass < from) throw new InvalidOperationException($"Pass {pass} is before the current segment (from pass {from}).");
        if (pass > to) Build(pass);
        return pass - from;
    }

    private double Term(in Line line, int t) =>
        AttentionMakespan.SplitTermNs(line.TokensBefore + (long)line.Drained * t, line.PartialBlocks, line.PartialTokens + t, line.PartialRequestBlocks,
            Math.Min(line.RequestTokens + t, shape.PartitionTokens), shape.KvHeads, shape.BytesPerToken, shape.Aggregate, shape.PerBlock);

    /// <summary>The segment from <paramref name="pass"/> to the pass before the first crossing: its blocks exactly as a priced pass forms them.</summary>
    private void Build(int pass)
    {
        Segments++;
        from = pass;
        var partition = shape.PartitionTokens;
        var heads = shape.KvHeads;
        reference.Configure(heads, partition, shape.BytesPerToken);
        long span = long.MaxValue;
        for (var r = 0; r < count; r++)
        {
            var length = lengths0[r] + pass;
            reference.Add(length);
            // The member crosses into a new partition once it holds more than its partitions' tokens.
            var partitions = (length + (long)partition - 1) / partition;
            span = Math.Min(span, partitions * partition - length);
        }
        to = (int)Math.Min(lastPass, pass + span);
        if (to < from) to = from;
        var requestBlocks = (long)count * heads;

        // The k-th largest block: a full partition while those number k or more (the cap stays, only last blocks grow),
        // else a last block (every last block and the cap grow a token a pass, so every block's capped size does).
        var k = shape.SaturatingBlocks;
        cap0 = reference.KthLargestBlockTokens(k);
        capped0 = cap0 == 0 ? 0 : reference.TokensCappedAt(cap0);
        (cappedRate, capRate) = reference.BlockCount - requestBlocks >= k ? (requestBlocks, 0) : (reference.BlockCount, 1);

        // The w smallest blocks: last blocks first (none exceeds a partition), each growing a token a pass.
        waves = AttentionMakespan.Waves(reference.BlockCount, shape.Slots);
        smallest0 = waves <= 1 ? 0 : reference.SmallestBlocksTokens(waves);
        smallestRate = Math.Min(waves, requestBlocks);

        BuildLines(pass);
    }

    /// <summary>
    /// Each request's launch-order term, as <see cref="AttentionMakespan"/> walks them (a request waits for the blocks launched a slot
    /// count before its last one to drain), keeping those that can be the largest in the segment.
    /// </summary>
    private void BuildLines(int pass)
    {
        var slots = shape.Slots;
        var last = to - from;
        long launched = 0, blocksBefore = 0, tokensBefore = 0;
        var drained = 0;
        var n = 0;
        // Every term is at least the floor's lower bound over the segment, its first pass's floor (it only grows).
        var lowest = AttentionMakespan.FloorNs(reference.TotalBytes, reference.LongestBlockTokens, shape.BytesPerToken, shape.Bandwidth, shape.PerBlock, slots);
        for (var r = 0; r < count; r++)
        {
            var blocks = BlocksOf(r, pass);
            var mustDrain = launched + blocks - slots;
            launched += blocks;
            // A request whose last block gets a slot at launch waits for nothing: its term is its block, within the floor.
            if (mustDrain <= 0) continue;
            while (drained < r && blocksBefore + BlocksOf(drained, pass) <= mustDrain)
            {
                blocksBefore += BlocksOf(drained, pass);
                tokensBefore += lengths0[drained] + pass;
                drained++;
            }
            var line = new Line(tokensBefore, drained, mustDrain - blocksBefore, lengths0[drained] + pass, BlocksOf(drained, pass), lengths0[r] + pass);
            var (atFirst, atLast) = (Term(line, 0), Term(line, last));
            lowest = Math.Max(lowest, Math.Min(atFirst, atLast));
            highest[n] = Math.Max(atFirst, atLast);
            lines[n++] = line;
        }
        candidates = 0;
        var keep = lowest * (1 - CandidateMargin);
        for (var i = 0; i < n; i++)
            if (highest[i] >= keep) lines[candidates++] = lines[i];
    }

    private long BlocksOf(int r, int pass) => (lengths0[r] + pass + (long)shape.PartitionTokens - 1) / shape.PartitionTokens * shape.KvHeads;
}
