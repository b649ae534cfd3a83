using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Simulator.Config;

/// <summary>Parses YAML text into a <see cref="ConfigNode"/> tree with source positions.</summary>
public static class YamlReader
{
    public static MappingNode ReadFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException(null, "", $"cannot read config file '{path}': {e.Message}");
        }
        return ReadDocument(text, path);
    }

    /// <summary>Parses one YAML document whose root must be a mapping.</summary>
    public static MappingNode ReadDocument(string text, string sourceName)
    {
        var root = Read(text, sourceName, new SourceLocation(sourceName, 1, 1));
        return root as MappingNode
            ?? throw new ConfigException(root.Location, "", "expected a mapping of keys to values at the top of the file");
    }

    /// <summary>Parses a YAML fragment (for example a --set value); an empty text is a null scalar.</summary>
    public static ConfigNode Read(string text, string sourceName, SourceLocation whereEmpty)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            var inner = e.InnerException?.Message;
            throw new ConfigException(new SourceLocation(sourceName, (int)e.Start.Line, (int)e.Start.Column), "",
                $"invalid YAML: {e.Message}{(inner is null ? "" : $" ({inner})")}");
        }
        if (stream.Documents.Count == 0) return new ScalarNode("", true, whereEmpty);
        if (stream.Documents.Count > 1)
            throw new ConfigException(Loc(stream.Documents[1].RootNode, sourceName), "", "expected one YAML document, found several");
        return Convert(stream.Documents[0].RootNode, sourceName);
    }

    private static ConfigNode Convert(YamlNode node, string source) => node switch
    {
        YamlScalarNode s => new ScalarNode(s.Value ?? "", s.Style is ScalarStyle.Plain or ScalarStyle.Any, Loc(s, source)),
        YamlSequenceNode seq => new SequenceNode(seq.Children.Select(c => Convert(c, source)).ToList(), Loc(seq, source)),
        YamlMappingNode map => ConvertMapping(map, source),
        _ => throw new ConfigException(Loc(node, source), "", "YAML aliases and tags are not supported in configs"),
    };

    private static MappingNode ConvertMapping(YamlMappingNode map, string source)
    {
        var entries = new List<KeyValuePair<ScalarNode, ConfigNode>>();
        foreach (var (key, value) in map.Children)
        {
            if (key is not YamlScalarNode keyScalar)
                throw new ConfigException(Loc(key, source), "", "expected a plain key");
            var keyNode = new ScalarNode(keyScalar.Value ?? "", true, Loc(key, source));
            if (entries.Any(e => e.Key.Value == keyNode.Value))
                throw new ConfigException(keyNode.Location, keyNode.Value, "duplicate key");
            entries.Add(new(keyNode, Convert(value, source)));
        }
        return new MappingNode(entries, Loc(map, source));
    }

    private static SourceLocation Loc(YamlNode node, string source) => new(source, (int)node.Start.Line, (int)node.Start.Column);
}
