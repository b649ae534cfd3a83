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
    public static string ToYaml(object config)
    {
        var stream = new YamlStream(new YamlDocument(ToNode(config)));
        using var writer = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        stream.Save(writer, assignAnchors: false);
        var text = writer.ToString();
        return text.EndsWith("...\n", StringComparison.Ordinal) ? text[..^4] : text;
    }

    private static YamlNode ToNode(object? value) => value switch
    {
        null => new YamlScalarNode("null"),
        string s => new YamlScalarNode(s) { Style = YamlDotNet.Core.ScalarStyle.DoubleQuoted },
        bool b => new YamlScalarNode(b ? "true" : "false"),
        double d => new YamlScalarNode(d.ToString("R", CultureInfo.InvariantCulture)),
        int or long => new YamlScalarNode(Convert.ToString(value, CultureInfo.InvariantCulture)!),
        Enum e => new YamlScalarNode(ConfigNames.EnumName(e)),
        PolicyConfig p => WithLeadingKey("name", p.Name, Record(p.Options)),
        System.Collections.IEnumerable list => new YamlSequenceNode(list.Cast<object?>().Select(ToNode)),
        _ => Record(value),
    };

    private static YamlMappingNode Record(object record)
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
            map.Add(ConfigNames.Snake(field.Name!), ToNode(property.GetValue(record)));
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
