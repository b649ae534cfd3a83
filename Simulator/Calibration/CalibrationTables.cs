using System.Globalization;
using CsvHelper;
using Simulator.Config;

namespace Simulator.Calibration;

public readonly record struct AttentionSample(string Kernel, int Batch, double KvMean, double KvMax, double TimeUs);

public readonly record struct DenseSample(int Tokens, double TimeUs);

public readonly record struct LinkSample(string Link, long Bytes, double TimeUs);

/// <summary>A loaded calibration: its file's settings and its measured tables.</summary>
/// <param name="SpreadMeasured">Whether the attention samples vary the KV spread (max/mean) of a batch. When not (a Vidur
/// profile's uniform batches), a batch's correction is looked up at its size and mean length, and its spread is the closed form's.</param>
/// <param name="Host">The engine's host time per pass, measured (a Vidur profile's CPU overheads), or null.</param>
/// <param name="Notes">What of the source was not used, for the run's notes.</param>
/// <param name="Prefill">Measured prefill-attention samples (a Vidur profile's), or null.</param>
public sealed record CalibrationTables(
    string Path,
    CalibrationConfig Config,
    IReadOnlyList<AttentionSample> Attention,
    IReadOnlyList<DenseSample> Dense,
    IReadOnlyList<LinkSample> Links,
    bool SpreadMeasured = true,
    HostFit? Host = null,
    IReadOnlyList<string>? Notes = null,
    IReadOnlyList<PrefillSample>? Prefill = null)
{
    private static readonly string[] Kernels = ["per_head", "split_kv"];
    private static readonly string[] LinkKinds = ["h2d", "d2h", "d2d", "peer"];

    /// <summary>Loads and checks a calibration file and its tables; errors name the file and line.</summary>
    /// <param name="model">The model a Vidur profile is read for (<see cref="CalibrationConfig.VidurProfile"/>; its rows are per model).</param>
    /// <param name="blockSizeTokens">The KV block size a Vidur profile's attention rows must have been measured with.</param>
    public static CalibrationTables Load(string path, Specs.ModelSpec? model = null, int blockSizeTokens = 16)
    {
        if (VidurProfile.FolderOf(path) is { } folder)
            return VidurProfile.Load(folder, model ?? throw new ConfigException(null, "cost_model.calibration", "a Vidur profile is read for a model: name it in an experiment"),
                blockSizeTokens);
        var config = new ConfigBinder(Catalog.Shipped()).Bind<CalibrationConfig>(YamlReader.ReadFile(path));
        if (config.VidurProfile is { } vidur)
        {
            if (config.AttentionTable is not null || config.DenseTable is not null || config.LinksTable is not null)
                throw new ConfigException(new SourceLocation(path, 1, 1), "vidur_profile", "a Vidur profile replaces attention_table, dense_table and links_table: give one or the other");
            return VidurProfile.Load(vidur, model ?? throw new ConfigException(new SourceLocation(path, 1, 1), "vidur_profile",
                "a Vidur profile is read for a model: name this calibration in an experiment"), blockSizeTokens, config, path);
        }
        var attention = config.AttentionTable is { } a
            ? ReadTable(a, ["kernel", "batch", "kv_mean", "kv_max", "time_us"], row =>
            {
                var kernel = row.Text("kernel", Kernels);
                var batch = row.Int("batch");
                var mean = row.Positive("kv_mean");
                var max = row.Positive("kv_max");
                if (max < mean) throw new FormatException($"kv_max ({max}) is below kv_mean ({mean})");
                return new AttentionSample(kernel, batch, mean, max, row.Positive("time_us"));
            })
            : [];
        var dense = config.DenseTable is { } d
            ? ReadTable(d, ["tokens", "time_us"], row => new DenseSample(row.Int("tokens"), row.Positive("time_us")))
            : [];
        var links = config.LinksTable is { } l
            ? ReadTable(l, ["link", "bytes", "time_us"], row => new LinkSample(row.Text("link", LinkKinds), row.Int("bytes"), row.Positive("time_us")))
            : [];
        return new CalibrationTables(path, config, attention, dense, links);
    }

    private sealed class Row(CsvReader csv)
    {
        public string Text(string column, string[] allowed)
        {
            var value = csv.GetField(column) ?? "";
            return allowed.Contains(value) ? value : throw new FormatException($"'{column}' must be one of {string.Join(", ", allowed)}, found '{value}'");
        }

        public int Int(string column) =>
            int.TryParse(csv.GetField(column), NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0
                ? v : throw new FormatException($"'{column}' must be a positive integer, found '{csv.GetField(column)}'");

        public double Positive(string column) =>
            double.TryParse(csv.GetField(column), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) && v > 0
                ? v : throw new FormatException($"'{column}' must be a positive number, found '{csv.GetField(column)}'");
    }

    private static List<T> ReadTable<T>(string path, string[] columns, Func<Row, T> parse)
    {
        if (!File.Exists(path)) throw new ConfigException(null, "", $"calibration table '{path}' does not exist");
        using var reader = new StreamReader(path);
        using var csv = new CsvReader(reader, CultureInfo.InvariantCulture);
        if (!csv.Read() || !csv.ReadHeader()) throw new ConfigException(new SourceLocation(path, 1, 1), "", "empty table: expected a header row");
        var missing = columns.Where(c => !csv.HeaderRecord!.Contains(c)).ToList();
        if (missing.Count > 0)
            throw new ConfigException(new SourceLocation(path, 1, 1), "", $"missing column(s) {string.Join(", ", missing)}; expected {string.Join(",", columns)}");
        var rows = new List<T>();
        var row = new Row(csv);
        while (csv.Read())
        {
            try
            {
                rows.Add(parse(row));
            }
            catch (FormatException e)
            {
                throw new ConfigException(new SourceLocation(path, csv.Parser.RawRow, 1), "", $"malformed row: {e.Message}");
            }
        }
        return rows;
    }
}
