using System.Text.Json;
using Simulator.Config;
using Simulator.Output;

namespace Simulator.Sweeps;

/// <summary>One run as recorded in sweep.json and in its folder's point.json.</summary>
public sealed record ManifestRun(int Run, int Point, long Seed, string Hash, IReadOnlyList<string> Coordinates);

/// <summary>A swept dimension's name and labels, in order.</summary>
public sealed record ManifestDimension(string Name, IReadOnlyList<string> Labels, IReadOnlyList<string> Paths);

/// <summary>
/// sweep.json: what a results folder of a sweep should hold (every run, its point and hash), so
/// <c>merge</c> and <c>plot</c> work from the folder alone. Figures are kept beside it as
/// figures.yaml, which may be edited and re-plotted.
/// </summary>
public sealed record SweepManifest(
    string Name,
    string Source,
    IReadOnlyList<ManifestDimension> Dimensions,
    bool RepeatsSeeds,
    int Points,
    IReadOnlyList<ManifestRun> Runs)
{
    public const string File = "sweep.json";
    public const string FiguresFile = "figures.yaml";
    public const string RunsFolder = "runs";
    public const string PointFile = "point.json";
    public const string ErrorFile = "error.txt";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    public static SweepManifest Of(SweepPlan plan) => new(
        plan.Name,
        plan.Source,
        plan.Spec.Dimensions.Select(d => new ManifestDimension(d.Name, d.Labels, d.Paths.Select(p => string.Join('.', p)).ToList())).ToList(),
        plan.RepeatsSeeds,
        plan.Points,
        plan.Runs.Select(Entry).ToList());

    public static ManifestRun Entry(SweepRun r) => new(r.Index, r.Point, r.Seed, r.Hash, r.Coordinates);

    /// <summary>Writes sweep.json and figures.yaml (atomically, each).</summary>
    public void Write(string dir, IReadOnlyList<FigureSpec> figures)
    {
        Directory.CreateDirectory(dir);
        ResultsFolder.WriteFileAtomically(Path.Combine(dir, File), tmp => System.IO.File.WriteAllText(tmp, Serialize(this)));
        ResultsFolder.WriteFileAtomically(Path.Combine(dir, FiguresFile), tmp => System.IO.File.WriteAllText(tmp,
            "# The sweep's figures: edit and run `plot <this folder>` to redraw them from the CSVs.\n" + ConfigWriter.ToYaml(new FigureList(figures))));
    }

    public static SweepManifest Read(string dir)
    {
        var path = Path.Combine(dir, File);
        if (!System.IO.File.Exists(path)) throw new ConfigException(null, "", $"'{dir}' is not a sweep's results folder: {File} is missing");
        try
        {
            return JsonSerializer.Deserialize<SweepManifest>(System.IO.File.ReadAllText(path), Json)
                ?? throw new JsonException("empty document");
        }
        catch (JsonException e)
        {
            throw new ConfigException(new SourceLocation(path, (int)(e.LineNumber ?? 0) + 1, 1), "", $"not a valid sweep manifest: {e.Message}");
        }
    }

    public static IReadOnlyList<FigureSpec> ReadFigures(string dir)
    {
        var path = Path.Combine(dir, FiguresFile);
        if (!System.IO.File.Exists(path)) return [];
        return new ConfigBinder(Catalog.Shipped()).Bind<FigureList>(YamlReader.ReadFile(path)).Figures;
    }

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Json) + "\n";

    /// <summary>Where a run's results live.</summary>
    public static string RunDir(string dir, string hash) => Path.Combine(dir, RunsFolder, hash);

    /// <summary>The state of a run's folder: done (summary written), failed (error recorded) or missing.</summary>
    public static RunState StateOf(string dir, string hash)
    {
        var run = RunDir(dir, hash);
        return System.IO.File.Exists(Path.Combine(run, ResultsWriter.SummaryCsvFile)) ? RunState.Done
            : System.IO.File.Exists(Path.Combine(run, ErrorFile)) ? RunState.Failed
            : RunState.Missing;
    }
}

public enum RunState
{
    Missing,
    Done,
    Failed,
}
