namespace Simulator.Config;

/// <summary>
/// Loads an experiment file: parse, apply <c>--set path=value</c> overrides, resolve catalog
/// references and bind strictly. Nothing is written here; every problem is a
/// <see cref="ConfigException"/>.
/// </summary>
public static class ExperimentLoader
{
    /// <summary>The key that marks a file as a study rather than a serving experiment.</summary>
    public const string StudyKey = "study";

    /// <summary>The file's top-level <c>study:</c> value, or null for a serving experiment.</summary>
    public static ScalarNode? StudyOf(string path) =>
        Read(path, [])[StudyKey] is ScalarNode { IsNull: false } study ? study : null;

    /// <summary>Loads a config file of any record type (a study), with overrides; the <c>study</c> key is skipped.</summary>
    public static T Load<T>(string path, IReadOnlyList<string>? sets = null, Catalog? catalog = null) where T : class =>
        (T)new ConfigBinder(catalog ?? Catalog.Locate(path)).BindRecord(typeof(T), Read(path, sets ?? []), "", StudyKey);

    /// <summary>The file's tree with the overrides applied, before binding.</summary>
    public static MappingNode Read(string path, IReadOnlyList<string> sets)
    {
        if (!File.Exists(path)) throw new ConfigException(null, "", $"experiment file '{path}' does not exist");
        var tree = YamlReader.ReadFile(path);
        for (var i = 0; i < sets.Count; i++) tree = ApplySet(tree, sets[i], i + 1);
        return tree;
    }

    public static ExperimentConfig Load(string path, IReadOnlyList<string>? sets = null, long? seed = null, Catalog? catalog = null)
    {
        var tree = Read(path, sets ?? []);
        if (tree.KeyNode(StudyKey) is { } study)
            throw new ConfigException(study.Location, StudyKey, "this file is a study, not a serving experiment");
        var config = new ConfigBinder(catalog ?? Catalog.Locate(path)).Bind<ExperimentConfig>(tree);
        if (seed is { } s)
        {
            if (s < 0) throw new ConfigException(null, "seed", $"--seed {s}: expected a non-negative integer");
            config = config with { Seed = s };
        }
        return config;
    }

    /// <summary>Sets one field given as <c>dotted.path=yaml-value</c>, creating mappings on the way.</summary>
    public static MappingNode ApplySet(MappingNode root, string assignment, int index)
    {
        var source = $"--set[{index}] '{assignment}'";
        var eq = assignment.IndexOf('=');
        if (eq <= 0) throw new ConfigException(new SourceLocation(source, 1, 1), "", "expected path=value, for example workload.num_requests=100");
        var path = assignment[..eq].Trim().Split('.');
        if (path.Any(string.IsNullOrWhiteSpace))
            throw new ConfigException(new SourceLocation(source, 1, 1), assignment[..eq], "expected a dotted path of keys, for example engine.block_size_tokens");
        var valueLocation = new SourceLocation(source, 1, eq + 2);
        var value = Relocate(YamlReader.Read(assignment[(eq + 1)..], source, valueLocation), valueLocation);
        return SetPath(root, path, value, valueLocation);
    }

    /// <summary>
    /// <paramref name="root"/> with <paramref name="value"/> at a dotted path, creating mappings on the
    /// way; a numeric segment indexes into a list that exists (<c>workload.prompt.components.0.weight</c>).
    /// </summary>
    public static MappingNode SetPath(MappingNode root, string[] path, ConfigNode value, SourceLocation where) =>
        (MappingNode)SetIn(root, path, 0, value, where);

    private static ConfigNode SetIn(ConfigNode node, string[] path, int depth, ConfigNode value, SourceLocation where)
    {
        var here = string.Join('.', path[..(depth + 1)]);
        if (node is SequenceNode seq)
        {
            if (!int.TryParse(path[depth], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index)
                || index >= seq.Items.Count)
                throw new ConfigException(where, here, $"'{path[depth]}' is not an index of the list at '{string.Join('.', path[..depth])}' (it has {seq.Items.Count} items: 0..{seq.Items.Count - 1})");
            var items = seq.Items.ToList();
            items[index] = depth == path.Length - 1 ? value : SetIn(items[index], path, depth + 1, value, where);
            return seq with { Items = items };
        }
        var map = node switch
        {
            MappingNode m => m,
            // A catalog name being overridden field by field: model=opt-13b becomes {name: opt-13b}.
            ScalarNode { IsNull: false } s => MappingNode.NameOnly(s),
            _ => new MappingNode([], where),
        };
        var key = new ScalarNode(path[depth], true, where);
        if (depth == path.Length - 1) return map.With(key, value);
        var child = map[path[depth]] ?? new MappingNode([], where);
        return map.With(key, SetIn(child, path, depth + 1, value, where));
    }

    /// <summary>A --set value parsed on its own reports positions inside the argument; point at the argument instead.</summary>
    private static ConfigNode Relocate(ConfigNode node, SourceLocation where) => node switch
    {
        ScalarNode s => s with { Location = where },
        SequenceNode s => new SequenceNode(s.Items.Select(i => Relocate(i, where)).ToList(), where),
        MappingNode m => new MappingNode(m.Entries.Select(e => new KeyValuePair<ScalarNode, ConfigNode>(e.Key with { Location = where }, Relocate(e.Value, where))).ToList(), where),
        _ => node,
    };
}
