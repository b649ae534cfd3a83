namespace Simulator.Config;

/// <summary>
/// The hardware and model catalogs: one YAML file per entry under <see cref="Root"/>
/// (<c>models/opt-13b.yaml</c>, <c>hardware/gpus/h100-sxm-80gb.yaml</c>, ...); the entry's
/// name is its file name.
/// </summary>
public sealed class Catalog(string root)
{
    public string Root { get; } = root;

    /// <summary>
    /// The catalog for an experiment file: the nearest folder above it that has
    /// <c>models/</c> and <c>hardware/</c>, else the copy shipped beside the program.
    /// </summary>
    public static Catalog Locate(string experimentPath)
    {
        for (var dir = Path.GetDirectoryName(Path.GetFullPath(experimentPath)); dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (IsCatalog(dir)) return new Catalog(dir);
            var nested = Path.Combine(dir, "configs");
            if (IsCatalog(nested)) return new Catalog(nested);
        }
        return Shipped();
    }

    public static Catalog Shipped() => new(Path.Combine(AppContext.BaseDirectory, "configs"));

    public IReadOnlyList<string> Names(string folder)
    {
        var dir = Path.Combine(Root, folder);
        if (!Directory.Exists(dir)) return [];
        return Directory.EnumerateFiles(dir, "*.yaml")
            .Select(f => Path.GetFileNameWithoutExtension(f)!)
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    public string PathOf(string folder, string name) => Path.Combine(Root, folder, name + ".yaml");

    /// <summary>
    /// Expands a reference (a name, or a mapping with <c>name</c> and overrides) into the
    /// catalog entry's mapping with the overrides merged in and <c>name</c> set.
    /// </summary>
    public MappingNode Resolve(string folder, ConfigNode reference, string path)
    {
        ScalarNode nameNode;
        MappingNode overrides;
        switch (reference)
        {
            case ScalarNode { IsNull: false } scalar:
                nameNode = scalar;
                overrides = new MappingNode([], scalar.Location);
                break;
            case MappingNode map when map["name"] is ScalarNode n:
                nameNode = n;
                overrides = map.Without("name");
                break;
            case MappingNode map:
                throw new ConfigException(map.Location, ConfigNames.Join(path, "name"),
                    $"missing required field 'name' (expected one of: {string.Join(", ", Names(folder))})");
            default:
                throw new ConfigException(reference.Location, path,
                    $"expected a catalog name or a mapping with 'name' and overrides (one of: {string.Join(", ", Names(folder))})");
        }
        var names = Names(folder);
        if (!names.Contains(nameNode.Value))
        {
            var hint = ConfigNames.Suggest(nameNode.Value, names) is { } s ? $" (did you mean '{s}'?)" : "";
            throw new ConfigException(nameNode.Location, path,
                $"unknown {folder} entry '{nameNode.Value}'{hint}; valid names: {string.Join(", ", names)}");
        }
        var entry = YamlReader.ReadFile(PathOf(folder, nameNode.Value));
        if (entry["name"] is { } inner)
            throw new ConfigException(inner.Location, "name", "catalog entries take their name from the file name; remove 'name'");
        return entry.With(new ScalarNode("name", true, nameNode.Location), nameNode).Merge(overrides);
    }

    private static bool IsCatalog(string dir) =>
        Directory.Exists(Path.Combine(dir, "models")) && Directory.Exists(Path.Combine(dir, "hardware"));
}
