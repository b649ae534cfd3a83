namespace Simulator.Config;

/// <summary>Where a config value came from: a file position, or a command-line override.</summary>
public sealed record SourceLocation(string File, int Line, int Column)
{
    public override string ToString() => $"{File}:{Line}:{Column}";
}

/// <summary>
/// A YAML document as a tree whose every node remembers its source. Catalog entries and
/// overrides are merged on this tree, so an error always points at the line that set the value.
/// </summary>
public abstract record ConfigNode(SourceLocation Location);

public sealed record ScalarNode(string Value, bool IsPlain, SourceLocation Location) : ConfigNode(Location)
{
    /// <summary>A plain (unquoted) <c>~</c>, <c>null</c> or empty scalar.</summary>
    public bool IsNull => IsPlain && Value is "" or "~" or "null" or "Null" or "NULL";
}

public sealed record SequenceNode(IReadOnlyList<ConfigNode> Items, SourceLocation Location) : ConfigNode(Location);

public sealed record MappingNode(IReadOnlyList<KeyValuePair<ScalarNode, ConfigNode>> Entries, SourceLocation Location)
    : ConfigNode(Location)
{
    /// <summary><c>{ name: value }</c>: a catalog or policy name given alone, as a mapping to refine.</summary>
    public static MappingNode NameOnly(ScalarNode name) =>
        new([new(new ScalarNode("name", true, name.Location), name)], name.Location);

    public ConfigNode? this[string key] => Entries.FirstOrDefault(e => e.Key.Value == key).Value;

    public ScalarNode? KeyNode(string key) => Entries.FirstOrDefault(e => e.Key.Value == key).Key;

    public MappingNode Without(string key) => this with { Entries = Entries.Where(e => e.Key.Value != key).ToList() };

    /// <summary>This mapping with <paramref name="value"/> at <paramref name="key"/> (replaced or appended).</summary>
    public MappingNode With(ScalarNode key, ConfigNode value)
    {
        var entries = Entries.ToList();
        var index = entries.FindIndex(e => e.Key.Value == key.Value);
        if (index >= 0) entries[index] = new(entries[index].Key, value);
        else entries.Add(new(key, value));
        return this with { Entries = entries };
    }

    /// <summary>
    /// Deep merge: keys of <paramref name="overrides"/> replace or (for mappings on both
    /// sides) merge into this mapping's.
    /// </summary>
    public MappingNode Merge(MappingNode overrides)
    {
        var result = this;
        foreach (var (key, value) in overrides.Entries)
        {
            var merged = (result[key.Value], value) switch
            {
                (MappingNode baseMap, MappingNode overMap) => baseMap.Merge(overMap),
                // A catalog reference by name (gpu: h100-sxm-80gb) refined field by field.
                (ScalarNode { IsNull: false } name, MappingNode overMap) when overMap["name"] is null =>
                    NameOnly(name).Merge(overMap),
                _ => value,
            };
            result = result.With(key, merged);
        }
        return result;
    }
}
