using System.Globalization;
using Simulator.Config;

namespace Simulator.Sweeps;

/// <summary>
/// One swept dimension: a single config path (a <c>grid</c> entry) or a named <c>zip</c> group of
/// paths that vary together. <see cref="Values"/>[i][p] is the value of path p at the i-th step;
/// <see cref="Labels"/>[i] names that step in tables, legends and file names.
/// </summary>
public sealed record SweepDimension(
    string Name,
    IReadOnlyList<string[]> Paths,
    IReadOnlyList<IReadOnlyList<ConfigNode>> Values,
    IReadOnlyList<string> Labels,
    SourceLocation Location)
{
    public int Count => Labels.Count;
}

/// <summary>
/// The <c>sweep:</c> section of an experiment file:
/// <code>
/// sweep:
///   grid:                       # Cartesian product, first entry outermost
///     model: [opt-2.7b, opt-13b]
///     policy: { values: [{ name: aligned }, { name: aligned, prefetch: false }], labels: [full, no-prefetch], name: variant }
///   zip:                        # named groups: the paths in a group step together
///     short_share:
///       label: [0.7, 0.9]
///       workload.prompt.components.0.weight: [0.7, 0.9]
///       workload.prompt.components.1.weight: [0.3, 0.1]
///   seeds: 3                    # or a list [1, 2, 3]: every point once per seed (confidence intervals)
///   max_points: 1000            # more runs than this needs --yes
/// </code>
/// </summary>
public sealed record SweepSpec(IReadOnlyList<SweepDimension> Dimensions, IReadOnlyList<long>? Seeds, int MaxRuns)
{
    public const string Key = "sweep";
    public const int DefaultMaxRuns = 1000;
    private static readonly string[] SectionKeys = ["grid", "zip", "seeds", "max_points"];
    private static readonly string[] GridFormKeys = ["values", "labels", "name"];

    /// <summary>Parses the section; <paramref name="baseSeed"/> is the file's seed (where <c>seeds: N</c> counts from).</summary>
    public static SweepSpec Parse(MappingNode section, long baseSeed)
    {
        foreach (var (key, _) in section.Entries)
            if (!SectionKeys.Contains(key.Value))
                throw Unknown(key, Key, SectionKeys);
        var dimensions = new List<SweepDimension>();
        if (section["grid"] is { } grid)
            foreach (var (key, value) in Mapping(grid, "sweep.grid").Entries)
                dimensions.Add(GridDimension(key, value));
        if (section["zip"] is { } zip)
            foreach (var (key, value) in Mapping(zip, "sweep.zip").Entries)
                dimensions.Add(ZipDimension(key, value));
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var d in dimensions)
        {
            if (!names.Add(d.Name))
                throw new ConfigException(d.Location, $"sweep.{d.Name}", $"two swept dimensions are both named '{d.Name}'; give one a name");
            if (d.Name is "seed" or "point" or "run" or "status" or "error" or "hash")
                throw new ConfigException(d.Location, $"sweep.{d.Name}", $"'{d.Name}' is a column of the results tables; give the dimension another name (grid: {{ path: {{ name: ..., values: [...] }} }}){(d.Name == "seed" ? " or use sweep.seeds" : "")}");
        }
        var paths = dimensions.SelectMany(d => d.Paths.Select(p => (Path: string.Join('.', p), d))).ToList();
        foreach (var group in paths.GroupBy(p => p.Path).Where(g => g.Count() > 1))
            throw new ConfigException(group.Last().d.Location, group.Key, "this path is swept by more than one dimension; sweep it once (use a zip group)");
        if (paths.Any(p => p.Path == "seed") && section["seeds"] is not null)
            throw new ConfigException(section.KeyNode("seeds")!.Location, "sweep.seeds", "seed is swept as a path already; use one or the other");
        IReadOnlyList<long>? seeds = section["seeds"] switch
        {
            null => null,
            ScalarNode s => Enumerable.Range(0, ParseInt(s, "sweep.seeds", 1, 100_000)).Select(i => baseSeed + i).ToList(),
            SequenceNode list => SeedList(list),
            var other => throw new ConfigException(other.Location, "sweep.seeds", "expected a count of seeds (3) or a list of seeds ([1, 2, 3])"),
        };
        var maxRuns = section["max_points"] is ScalarNode m ? ParseInt(m, "sweep.max_points", 1, int.MaxValue) : DefaultMaxRuns;
        if (dimensions.Count == 0 && seeds is null)
            throw new ConfigException(section.Location, Key, "expected at least one of grid, zip or seeds");
        return new SweepSpec(dimensions, seeds, maxRuns);
    }

    private static SweepDimension GridDimension(ScalarNode key, ConfigNode value)
    {
        var path = SplitPath(key);
        switch (value)
        {
            case SequenceNode list:
                var values = NonEmpty(list, key.Value);
                return new SweepDimension(key.Value, [path], values.Select(v => (IReadOnlyList<ConfigNode>)[v]).ToList(),
                    Labels(values, null, key), key.Location);
            case MappingNode form:
                foreach (var (k, _) in form.Entries)
                    if (!GridFormKeys.Contains(k.Value)) throw Unknown(k, $"sweep.grid.{key.Value}", GridFormKeys);
                var items = form["values"] is SequenceNode v ? NonEmpty(v, $"{key.Value}.values")
                    : throw new ConfigException(form.Location, $"sweep.grid.{key.Value}.values", "expected a list of values");
                var name = form["name"] is ScalarNode { IsNull: false } n ? CheckName(n) : key.Value;
                return new SweepDimension(name, [path], items.Select(i => (IReadOnlyList<ConfigNode>)[i]).ToList(),
                    Labels(items, form["labels"], key), key.Location);
            default:
                throw new ConfigException(value.Location, $"sweep.grid.{key.Value}",
                    "expected a list of values, or { values: [...], labels: [...], name: ... }");
        }
    }

    private static SweepDimension ZipDimension(ScalarNode group, ConfigNode value)
    {
        var map = Mapping(value, $"sweep.zip.{group.Value}");
        CheckName(group);
        var members = map.Entries.Where(e => e.Key.Value != "label").ToList();
        if (members.Count == 0)
            throw new ConfigException(map.Location, $"sweep.zip.{group.Value}", "expected at least one path: list of values");
        var lists = members.Select(e => e.Value is SequenceNode s ? NonEmpty(s, $"{group.Value}.{e.Key.Value}")
            : throw new ConfigException(e.Value.Location, $"sweep.zip.{group.Value}.{e.Key.Value}", "expected a list of values")).ToList();
        var length = lists[0].Count;
        for (var i = 1; i < lists.Count; i++)
            if (lists[i].Count != length)
                throw new ConfigException(members[i].Value.Location, $"sweep.zip.{group.Value}.{members[i].Key.Value}",
                    $"has {lists[i].Count} values but '{members[0].Key.Value}' has {length}; the paths of a zip group step together and need equally long lists");
        var steps = Enumerable.Range(0, length).Select(i => (IReadOnlyList<ConfigNode>)lists.Select(l => l[i]).ToList()).ToList();
        return new SweepDimension(group.Value, members.Select(e => SplitPath(e.Key)).ToList(), steps,
            Labels(lists[0], map["label"], group, length), group.Location);
    }

    /// <summary>Labels given, or derived from the values (a scalar's text, a mapping's <c>name</c>); they must be distinct.</summary>
    private static IReadOnlyList<string> Labels(IReadOnlyList<ConfigNode> values, ConfigNode? given, ScalarNode key, int? count = null)
    {
        var n = count ?? values.Count;
        List<string> labels;
        if (given is not null)
        {
            if (given is not SequenceNode seq || seq.Items.Count != n || seq.Items.Any(i => i is not ScalarNode { IsNull: false }))
                throw new ConfigException(given.Location, $"sweep.{key.Value}", $"expected a list of {n} labels, one per value");
            labels = seq.Items.Select(i => ((ScalarNode)i).Value).ToList();
        }
        else labels = values.Select((v, i) => v switch
        {
            ScalarNode s => s.Value,
            MappingNode m when m["name"] is ScalarNode { IsNull: false } name => name.Value,
            _ => $"#{i}",
        }).ToList();
        var duplicate = labels.GroupBy(l => l).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ConfigException(given?.Location ?? key.Location, $"sweep.{key.Value}",
                $"two values would share the label '{duplicate.Key}'; give distinct labels: [...]");
        foreach (var label in labels)
            if (label.Length == 0 || label.Any(c => char.IsControl(c) || c is '/' or '\\' or ',' or '"'))
                throw new ConfigException(given?.Location ?? key.Location, $"sweep.{key.Value}",
                    $"label '{label}' is not usable in tables and file names (no '/', '\\\\', ',', quotes or control characters)");
        return labels;
    }

    private static string CheckName(ScalarNode name)
    {
        if (name.Value.Length == 0 || name.Value.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')))
            throw new ConfigException(name.Location, $"sweep.{name.Value}", "a dimension name may hold letters, digits, '_', '-' and '.'");
        return name.Value;
    }

    private static string[] SplitPath(ScalarNode key)
    {
        var parts = key.Value.Split('.');
        if (parts.Any(string.IsNullOrWhiteSpace) || key.Value is Key or "name")
            throw new ConfigException(key.Location, key.Value,
                key.Value is Key or "name" ? $"'{key.Value}' cannot be swept" : "expected a dotted path of keys, for example engine.block_size_tokens");
        return parts;
    }

    private static List<ConfigNode> NonEmpty(SequenceNode list, string what) => list.Items.Count > 0
        ? list.Items.ToList()
        : throw new ConfigException(list.Location, $"sweep.{what}", "expected at least one value");

    private static MappingNode Mapping(ConfigNode node, string path) => node as MappingNode
        ?? throw new ConfigException(node.Location, path, "expected a mapping");

    private static IReadOnlyList<long> SeedList(SequenceNode list)
    {
        var seeds = list.Items.Select(i => i is ScalarNode s && long.TryParse(s.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v
            : throw new ConfigException(i.Location, "sweep.seeds", "expected non-negative integer seeds")).ToList();
        if (seeds.Count == 0 || seeds.Distinct().Count() != seeds.Count)
            throw new ConfigException(list.Location, "sweep.seeds", "expected a non-empty list of distinct seeds");
        return seeds;
    }

    private static int ParseInt(ScalarNode s, string path, int min, int max) =>
        int.TryParse(s.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max ? v
            : throw new ConfigException(s.Location, path, $"expected an integer in [{min}, {max}], got '{s.Value}'");

    private static ConfigException Unknown(ScalarNode key, string section, IReadOnlyList<string> expected)
    {
        var hint = ConfigNames.Suggest(key.Value, expected) is { } s ? $" (did you mean '{s}'?)" : "";
        return new ConfigException(key.Location, $"{section}.{key.Value}", $"unknown key{hint}; expected one of: {string.Join(", ", expected)}");
    }
}
