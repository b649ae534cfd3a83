using System.Security.Cryptography;
using System.Text;
using Simulator.Config;

namespace Simulator.Sweeps;

/// <summary>
/// One run of a sweep: a point (one label per dimension) with one seed. <see cref="Hash"/> is a
/// stable hash of the resolved config (file paths by content), naming the run's folder.
/// </summary>
public sealed record SweepRun(int Point, int Index, IReadOnlyList<string> Coordinates, long Seed, ExperimentConfig Config, string Hash)
{
    public string Describe(IReadOnlyList<SweepDimension> dimensions) =>
        string.Join(", ", dimensions.Select((d, i) => $"{d.Name}={Coordinates[i]}").Append($"seed={Seed}"));
}

/// <summary>
/// A sweep file expanded: every run bound and validated before anything runs, in a fixed order
/// (first dimension outermost, seeds innermost), so a bad point fails the whole sweep up front.
/// </summary>
public sealed record SweepPlan(
    string Name,
    string Source,
    SweepSpec Spec,
    IReadOnlyList<FigureSpec> Figures,
    IReadOnlyList<SweepRun> Runs)
{
    public const string FiguresKey = "figures";

    public int Points => Runs.Count == 0 ? 0 : Runs[^1].Point + 1;

    public bool RepeatsSeeds => Spec.Seeds is { Count: > 1 };

    /// <summary>True when the file has a top-level <c>sweep:</c> section.</summary>
    public static bool IsSweep(string path) => ExperimentLoader.Read(path, [])[SweepSpec.Key] is not null;

    public static SweepPlan Load(string path, IReadOnlyList<string>? sets = null, Catalog? catalog = null)
    {
        var tree = ExperimentLoader.Read(path, sets ?? []);
        if (tree.KeyNode(ExperimentLoader.StudyKey) is { } study)
            throw new ConfigException(study.Location, ExperimentLoader.StudyKey, "a study cannot be swept; sweep a serving experiment");
        var section = tree[SweepSpec.Key] as MappingNode
            ?? throw new ConfigException(tree.KeyNode(SweepSpec.Key)?.Location ?? tree.Location, SweepSpec.Key, "expected a sweep: mapping with grid, zip and/or seeds");
        var baseTree = tree.Without(SweepSpec.Key).Without(FiguresKey);
        catalog ??= Catalog.Locate(path);
        var binder = new ConfigBinder(catalog);
        var baseConfig = BindPoint(binder, baseTree, "the file without its sweep");
        var spec = SweepSpec.Parse(section, baseConfig.Seed);
        var figures = tree[FiguresKey] is { } f
            ? binder.Bind<FigureList>(new MappingNode([new(new ScalarNode(FiguresKey, true, f.Location), f)], f.Location)).Figures
            : [];
        CheckFigures(figures, spec, tree[FiguresKey] as SequenceNode);

        var total = spec.Dimensions.Aggregate(1L, (n, d) => n * d.Count) * (spec.Seeds?.Count ?? 1);
        if (total > 10_000_000)
            throw new ConfigException(section.Location, SweepSpec.Key, $"the sweep expands to {total:N0} runs; at most 10,000,000 are supported");
        var runs = new List<SweepRun>((int)total);
        var fileHashes = new Dictionary<string, string>();
        var index = new int[spec.Dimensions.Count];
        for (var point = 0; ; point++)
        {
            var pointTree = baseTree;
            for (var d = 0; d < index.Length; d++)
            {
                var dim = spec.Dimensions[d];
                for (var p = 0; p < dim.Paths.Count; p++)
                    pointTree = ExperimentLoader.SetPath(pointTree, dim.Paths[p], dim.Values[index[d]][p], dim.Location);
            }
            var coordinates = index.Select((i, d) => spec.Dimensions[d].Labels[i]).ToList();
            var described = string.Join(", ", coordinates.Select((c, d) => $"{spec.Dimensions[d].Name}={c}"));
            var config = BindPoint(binder, pointTree, $"point {described}");
            foreach (var seed in spec.Seeds ?? [config.Seed])
            {
                var run = config with { Seed = seed };
                runs.Add(new SweepRun(point, runs.Count, coordinates, seed, run, Hash(run, fileHashes)));
            }
            if (!Next(index, spec.Dimensions)) break;
        }
        return new SweepPlan(baseConfig.Name, Path.GetFullPath(path), spec, figures, runs);
    }

    private static ExperimentConfig BindPoint(ConfigBinder binder, MappingNode tree, string what)
    {
        try
        {
            return binder.Bind<ExperimentConfig>(tree);
        }
        catch (ConfigException e)
        {
            throw new ConfigException(e.Location, e.FieldPath, $"{e.Problem} (in {what})");
        }
    }

    /// <summary>Odometer step, last dimension fastest; false after the last combination.</summary>
    private static bool Next(int[] index, IReadOnlyList<SweepDimension> dimensions)
    {
        for (var d = index.Length - 1; d >= 0; d--)
        {
            if (++index[d] < dimensions[d].Count) return true;
            index[d] = 0;
        }
        return false;
    }

    /// <summary>
    /// SHA-256 of the resolved config with each input file named by its content, so the same run
    /// hashes the same on every machine and checkout, and an edited trace makes new runs.
    /// </summary>
    public static string Hash(ExperimentConfig config, Dictionary<string, string>? fileHashes = null)
    {
        fileHashes ??= [];
        var yaml = ConfigWriter.ToYaml(config, path =>
        {
            if (!fileHashes.TryGetValue(path, out var id))
            {
                // A Vidur profile folder is named by its CSVs' contents (an edited profile makes new runs).
                if (Calibration.VidurProfile.FolderOf(path) is { } folder && Directory.Exists(folder))
                    id = $"vidur:{Path.GetFileName(Path.TrimEndingDirectorySeparator(folder))}#sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
                        string.Join("\n", Directory.EnumerateFiles(folder, "*.csv").Order(StringComparer.Ordinal)
                            .Select(f => $"{Path.GetFileName(f)}:{Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f)))}")))))[..16];
                // A missing file is named as such: its runs fail with a clear error, and hash anew once it exists.
                else if (!File.Exists(path)) id = $"{Path.GetFileName(path)}#missing";
                else
                {
                    using var stream = File.OpenRead(path);
                    id = $"{Path.GetFileName(path)}#sha256:{Convert.ToHexStringLower(SHA256.HashData(stream))[..16]}";
                }
                fileHashes[path] = id;
            }
            return id;
        });
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(yaml)))[..16];
    }

    private static void CheckFigures(IReadOnlyList<FigureSpec> figures, SweepSpec spec, SequenceNode? nodes)
    {
        var names = spec.Dimensions.Select(d => d.Name).ToList();
        for (var i = 0; i < figures.Count; i++)
        {
            var where = nodes?.Items[i].Location;
            foreach (var (field, dimension) in figures[i].Dimensions())
                if (!names.Contains(dimension))
                {
                    var hint = ConfigNames.Suggest(dimension, names) is { } s ? $" (did you mean '{s}'?)" : "";
                    throw new ConfigException(where, $"figures[{i}].{field}",
                        $"'{dimension}' is not a swept dimension{hint}; expected one of: {string.Join(", ", names)}");
                }
            if (figures[i].Metric is { } metric && !MetricColumns.IsKnown(metric))
            {
                var hint = ConfigNames.Suggest(metric, MetricColumns.Fixed) is { } s ? $" (did you mean '{s}'?)" : "";
                throw new ConfigException(where, $"figures[{i}].metric", $"'{metric}' is not a metric of points.csv{hint}; expected one of: {string.Join(", ", MetricColumns.Fixed)}");
            }
            var fig = figures[i];
            foreach (var (d, label) in fig.Filters)
                if (!spec.Dimensions.First(x => x.Name == d).Labels.Contains(label))
                    throw new ConfigException(where, $"figures[{i}].where", $"'{label}' is not a label of '{d}'; expected one of: {string.Join(", ", spec.Dimensions.First(x => x.Name == d).Labels)}");
            var used = fig.Dimensions().Select(d => d.Dimension).ToHashSet();
            if (spec.Dimensions.FirstOrDefault(d => d.Count > 1 && !used.Contains(d.Name)) is { } loose)
                throw new ConfigException(where, $"figures[{i}]",
                    $"dimension '{loose.Name}' takes {loose.Count} values but the figure does not say how to show them; use it as x, series or panels, or pick one with where: [{loose.Name}={loose.Labels[0]}]");
            if (fig.Baseline is { } baseline && !spec.Dimensions.First(d => d.Name == fig.Series).Labels.Contains(baseline))
                throw new ConfigException(where, $"figures[{i}].baseline", $"'{baseline}' is not a label of '{fig.Series}'");
            if (figures.Take(i).Any(f => f.Name == figures[i].Name))
                throw new ConfigException(where, $"figures[{i}].name", $"two figures are named '{figures[i].Name}'");
        }
    }
}
