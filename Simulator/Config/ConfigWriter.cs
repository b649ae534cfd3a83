using System.Globalization;
using System.Reflection;
using YamlDotNet.RepresentationModel;

namespace Simulator.Config;

/// <summary>
/// Writes a bound config back to YAML, every field included (defaults too): the "resolved
/// config" written beside results. Reading it back binds to an equal config.
/// </summary>
public static class ConfigWriter
{
    public static string ToYaml(object config) => ToYaml(config, null);

    /// <summary>As <see cref="ToYaml(object)"/>, with every file path field (<see cref="FilePathAttribute"/>) written as <paramref name="filePath"/> maps it.</summary>
    public static string ToYaml(object config, Func<string, string>? filePath)
    {
        var stream = new YamlStream(new YamlDocument(ToNode(config, filePath)));
        using var writer = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        stream.Save(writer, assignAnchors: false);
        var text = writer.ToString();
        return text.EndsWith("...\n", StringComparison.Ordinal) ? text[..^4] : text;
    }

    private static YamlNode ToNode(object? value, Func<string, string>? filePath) => value switch
    {
        null => new YamlScalarNode("null"),
        string s => new YamlScalarNode(s) { Style = YamlDotNet.Core.ScalarStyle.DoubleQuoted },
        bool b => new YamlScalarNode(b ? "true" : "false"),
        double d => new YamlScalarNode(d.ToString("R", CultureInfo.InvariantCulture)),
        int or long => new YamlScalarNode(Convert.ToString(value, CultureInfo.InvariantCulture)!),
        Enum e => new YamlScalarNode(ConfigNames.EnumName(e)),
        PolicyConfig p => WithLeadingKey("name", p.Name, Record(p.Options, filePath)),
        System.Collections.IEnumerable list => new YamlSequenceNode(list.Cast<object?>().Select(v => ToNode(v, filePath))),
        _ => Record(value, filePath),
    };

    private static YamlMappingNode Record(object record, Func<string, string>? filePath)
    {
        var type = record.GetType();
        var map = new YamlMappingNode();
        var union = type.BaseType?.GetCustomAttribute<ConfigUnionAttribute>();
        if (union is not null)
        {
            var variant = ConfigNames.Variants(type.BaseType!).Single(v => v.Type == type);
            map.Add(union.DiscriminatorKey, variant.Name);
        }
        foreach (var field in ConfigNames.Fields(type))
        {
            var property = type.GetProperty(field.Name!)
                ?? throw new InvalidOperationException($"{type.Name} has no property for parameter {field.Name}.");
            var value = property.GetValue(record);
            if (filePath is not null && value is string path && field.GetCustomAttribute<FilePathAttribute>() is not null) value = filePath(path);
            map.Add(ConfigNames.Snake(field.Name!), ToNode(value, filePath));
        }
        return map;
    }

    private static YamlMappingNode WithLeadingKey(string key, string value, YamlMappingNode rest)
    {
        var map = new YamlMappingNode { { key, new YamlScalarNode(value) { Style = YamlDotNet.Core.ScalarStyle.DoubleQuoted } } };
        foreach (var (k, v) in rest.Children) map.Add(k, v);
        return map;
    }
}
