using Simulator.CostModel;

namespace Simulator.Calibration;

/// <summary>
/// A calibration's measured tables turned into costs. Attention (per kernel): the closed form is
/// evaluated at every measured sample (a batch with the sample's size, mean and maximum KV length)
/// and the ratio measured / predicted becomes a correction factor; a batch's factor is
/// interpolated (inverse distance, four nearest samples) over log batch size, log mean length and
/// log max/mean spread. Dense: one layer's time, piecewise linear in tokens between samples.
/// Outside the tables' range the closed form is used unchanged, and the number of such
/// evaluations is reported (<see cref="Report"/>).
/// </summary>
public sealed class CalibratedCosts
{
    private readonly Dictionary<AttentionKernel, KernelTable> attention = [];
    private readonly DenseSample[] dense;
    private readonly PrefillTable? prefill;
    private long denseHits, denseMisses;

    /// <param name="closedFormNs">The closed form's per-layer decode-attention time of a batch of KV lengths with a kernel.</param>
    /// <param name="prefillClosedFormNs">The closed form's per-layer prefill-attention time of (chunk tokens, context tokens), needed with prefill samples.</param>
    public CalibratedCosts(CalibrationTables tables, Func<AttentionKernel, IReadOnlyList<int>, double> closedFormNs,
        Func<int, int, double>? prefillClosedFormNs = null)
    {
        if (tables.Prefill is { Count: > 0 } prefillSamples && prefillClosedFormNs is not null) prefill = new PrefillTable(prefillSamples, prefillClosedFormNs);
        Tables = tables;
        foreach (var kernel in Enum.GetValues<AttentionKernel>())
        {
            var name = Config.ConfigNames.EnumName(kernel);
            var samples = tables.Attention.Where(a => a.Kernel == name).ToList();
            if (samples.Count > 0) attention[kernel] = new KernelTable(name, samples, lengths => closedFormNs(kernel, lengths), tables.SpreadMeasured);
        }
        dense = tables.Dense.OrderBy(d => d.Tokens).ToArray();
    }

    public CalibrationTables Tables { get; }

    public bool HasAttention(AttentionKernel kernel) => attention.ContainsKey(kernel);

    public bool HasDense => dense.Length > 0;

    public bool PrefillAsRows => Tables.Config.PrefillAttention == PrefillAttention.Rows;

    /// <summary>KV lengths standing for a measured sample: one request at the maximum, the others sharing the rest of the mean.</summary>
    public static int[] Representative(AttentionSample a)
    {
        var batch = a.Batch;
        if (batch == 1 || a.KvMax - a.KvMean < 0.5) return Enumerable.Repeat((int)Math.Round(a.KvMean), batch).ToArray();
        var rest = Math.Max(1, (int)Math.Round((a.KvMean * batch - a.KvMax) / (batch - 1)));
        return Enumerable.Range(0, batch).Select(i => i == 0 ? (int)Math.Round(a.KvMax) : rest).ToArray();
    }

    /// <summary>The correction factor of a batch for a kernel, or null when the kernel was not profiled or the batch lies outside its table.</summary>
    public double? AttentionFactor(AttentionKernel kernel, int batch, double mean, double max) =>
        attention.TryGetValue(kernel, out var table) ? table.Factor(batch, mean, max) : null;

    /// <summary>The correction factor of a prefill chunk's attention, or null without prefill samples or outside them.</summary>
    public double? PrefillFactor(int chunkTokens, int contextTokens) => prefill?.Factor(chunkTokens, contextTokens);

    /// <summary>One layer's dense time for <paramref name="tokens"/> tokens, or null outside the table's range.</summary>
    public double? DenseNs(double tokens)
    {
        if (dense.Length == 0) return null;
        if (tokens < dense[0].Tokens || tokens > dense[^1].Tokens)
        {
            denseMisses++;
            return null;
        }
        denseHits++;
        var i = 0;
        while (i < dense.Length - 1 && dense[i + 1].Tokens < tokens) i++;
        if (i == dense.Length - 1) return dense[i].TimeUs * 1000;
        var (a, b) = (dense[i], dense[i + 1]);
        var t = (tokens - a.Tokens) / (b.Tokens - a.Tokens);
        return (a.TimeUs + t * (b.TimeUs - a.TimeUs)) * 1000;
    }

    /// <summary>What fell outside the tables in a run, or null when they covered everything.</summary>
    public string? Report()
    {
        var parts = attention.Values.Select(t => t.Report()).Append(prefill?.Report()).OfType<string>().ToList();
        if (denseMisses > 0)
            parts.Add($"{denseMisses} of {denseHits + denseMisses} dense evaluations fell outside the dense table ({(dense.Length > 0 ? $"{dense[0].Tokens}-{dense[^1].Tokens}" : "no")} tokens)");
        return parts.Count == 0 ? null : $"calibration {Tables.Path}: {string.Join("; ", parts)}: the closed form with the fitted parameters was used for those";
    }

    /// <summary>One kernel's correction factors at its samples, in log (batch, mean, spread) space.</summary>
    private sealed class KernelTable
    {
        private const int Neighbours = 4;
        private readonly string name;
        private readonly (double[] X, double Factor)[] points;
        /// <summary>False: the samples are uniform batches, so a batch is looked up at spread 1 and the closed form carries its spread.</summary>
        private readonly bool spreadMeasured;
        private readonly double[] lo = new double[3], hi = new double[3];
        private long hits, misses;

        public KernelTable(string name, IReadOnlyList<AttentionSample> samples, Func<IReadOnlyList<int>, double> closedFormNs, bool spreadMeasured)
        {
            this.name = name;
            this.spreadMeasured = spreadMeasured;
            points = samples.Select(a => (Point(a.Batch, a.KvMean, a.KvMax), a.TimeUs * 1000 / closedFormNs(Representative(a)))).ToArray();
            for (var i = 0; i < 3; i++)
            {
                lo[i] = points.Min(p => p.X[i]);
                hi[i] = points.Max(p => p.X[i]);
            }
            lo[2] = 0; // a spread below the table's smallest is still a spread of at least 1
        }

        private static double[] Point(int batch, double mean, double max) => [Math.Log(batch), Math.Log(mean), Math.Log(Math.Max(1, max / mean))];

        /// <summary>Called for every priced pass: no allocation, one scan keeping the nearest samples.</summary>
        public double? Factor(int batch, double mean, double max)
        {
            double x0 = Math.Log(batch), x1 = Math.Log(mean), x2 = spreadMeasured ? Math.Log(Math.Max(1, max / mean)) : 0;
            const double slack = 1e-9;
            if (x0 < lo[0] - slack || x0 > hi[0] + slack || x1 < lo[1] - slack || x1 > hi[1] + slack || x2 > hi[2] + 0.05)
            {
                misses++;
                return null;
            }
            hits++;
            Span<double> bestDistance = stackalloc double[Neighbours];
            Span<double> bestFactor = stackalloc double[Neighbours];
            bestDistance.Fill(double.PositiveInfinity);
            double s0 = Width(0), s1 = Width(1), s2 = Width(2);
            foreach (var (p, factor) in points)
            {
                var distance = Square((x0 - p[0]) / s0) + Square((x1 - p[1]) / s1) + Square((x2 - p[2]) / s2);
                // Insert into the sorted nearest list (ties keep the earlier sample first, as a stable sort would).
                var at = Neighbours;
                while (at > 0 && distance < bestDistance[at - 1]) at--;
                if (at == Neighbours) continue;
                for (var k = Neighbours - 1; k > at; k--)
                {
                    bestDistance[k] = bestDistance[k - 1];
                    bestFactor[k] = bestFactor[k - 1];
                }
                bestDistance[at] = distance;
                bestFactor[at] = factor;
            }
            if (bestDistance[0] < 1e-12) return bestFactor[0];
            double weights = 0, sum = 0;
            for (var k = 0; k < Neighbours && !double.IsPositiveInfinity(bestDistance[k]); k++)
            {
                weights += 1 / bestDistance[k];
                sum += bestFactor[k] / bestDistance[k];
            }
            return sum / weights;
        }

        private double Width(int i) => Math.Max(hi[i] - lo[i], 0.1);

        public string? Report() => misses == 0 ? null
            : $"{misses} of {hits + misses} {name} attention evaluations fell outside its table (batch {Math.Exp(lo[0]):0}-{Math.Exp(hi[0]):0}, mean KV {Math.Exp(lo[1]):0}-{Math.Exp(hi[1]):0} tokens{(spreadMeasured ? $", max/mean up to {Math.Exp(hi[2]):0.#}" : "")})";

        private static double Square(double x) => x * x;
    }
}
