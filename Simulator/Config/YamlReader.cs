using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Simulator.Config;

/// <summary>
/// Parses YAML text into a <see cref="ConfigNode"/> tree with source positions, straight from the parser's
/// events. Aliases are bounded: one that refers to a node still open (a cycle) is refused, and the nodes
/// that aliases expand to are counted against <see cref="MaxNodes"/> (so a "billion laughs" file is an
/// error, not a hang); nesting is bounded by <see cref="MaxDepth"/> (not a stack overflow). Every parser
/// failure is a <see cref="ConfigException"/> at <c>file:line:column</c>.
/// </summary>
public static class YamlReader
{
    /// <summary>Most nodes a document may expand to, aliases included; configs hold hundreds.</summary>
    public const int MaxNodes = 100_000;

    /// <summary>Deepest nesting of mappings and sequences accepted.</summary>
    public const int MaxDepth = 64;

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
        var builder = new Builder(new Parser(new StringReader(text)), sourceName);
        try
        {
            return builder.Stream() ?? new ScalarNode("", true, whereEmpty);
        }
        catch (YamlException e)
        {
            var inner = e.InnerException?.Message;
            throw new ConfigException(new SourceLocation(sourceName, (int)e.Start.Line, (int)e.Start.Column), "",
                $"invalid YAML: {e.Message}{(inner is null ? "" : $" ({inner})")}");
        }
        catch (Exception e) when (e is not ConfigException and not OutOfMemoryException)
        {
            // The parser's own failures outside YamlException still mean the text is not YAML we can read.
            throw new ConfigException(builder.Where, "", $"invalid YAML: {e.Message}");
        }
    }

    /// <summary>Builds nodes from parser events; one instance per text.</summary>
    private sealed class Builder(IParser parser, string source)
    {
        private readonly Dictionary<string, (ConfigNode Node, int Size)> anchors = [];
        private readonly HashSet<string> open = [];
        private int nodes;

        /// <summary>Where the parser is (for errors that carry no position).</summary>
        public SourceLocation Where => parser.Current is { } e ? Loc(e) : new SourceLocation(source, 1, 1);

        public ConfigNode? Stream()
        {
            parser.Consume<StreamStart>();
            if (parser.TryConsume<StreamEnd>(out _)) return null;
            parser.Consume<DocumentStart>();
            var (root, _) = Node(0);
            parser.Consume<DocumentEnd>();
            if (parser.Accept<DocumentStart>(out var second))
                throw new ConfigException(Loc(second), "", "expected one YAML document, found several");
            parser.Consume<StreamEnd>();
            return root;
        }

        /// <summary>The next node and how many nodes it expands to.</summary>
        private (ConfigNode Node, int Size) Node(int depth)
        {
            if (depth > MaxDepth) throw new ConfigException(Where, "", $"nested deeper than {MaxDepth} levels");
            if (parser.TryConsume<AnchorAlias>(out var alias))
            {
                if (open.Contains(alias.Value.Value))
                    throw new ConfigException(Loc(alias), "", $"the alias *{alias.Value} refers to a node that contains it (a recursive alias)");
                if (!anchors.TryGetValue(alias.Value.Value, out var target))
                    throw new ConfigException(Loc(alias), "", $"the alias *{alias.Value} refers to no anchor &{alias.Value} before it");
                return Count(target.Node, target.Size, alias);
            }
            var start = parser.Current as NodeEvent ?? throw new ConfigException(Where, "", "expected a value");
            if (!start.Tag.IsEmpty)
                throw new ConfigException(Loc(start), "", $"YAML tags ({start.Tag}) are not supported in configs; quote a value to make it a string");
            var anchor = start.Anchor.IsEmpty ? null : start.Anchor.Value;
            if (anchor is not null) open.Add(anchor);
            var built = start switch
            {
                Scalar s => Scalar(s),
                SequenceStart => Sequence(depth),
                MappingStart => Mapping(depth),
                _ => throw new ConfigException(Loc(start), "", "expected a value"),
            };
            if (anchor is not null)
            {
                open.Remove(anchor);
                anchors[anchor] = built;
            }
            return built;
        }

        private (ConfigNode, int) Scalar(Scalar s)
        {
            parser.MoveNext();
            return Count(new ScalarNode(s.Value, s.Style is ScalarStyle.Plain or ScalarStyle.Any, Loc(s)), 1, s);
        }

        private (ConfigNode, int) Sequence(int depth)
        {
            var start = parser.Consume<SequenceStart>();
            var items = new List<ConfigNode>();
            var size = 1;
            while (!parser.TryConsume<SequenceEnd>(out _))
            {
                var (item, itemSize) = Node(depth + 1);
                items.Add(item);
                size += itemSize;
            }
            return Count(new SequenceNode(items, Loc(start)), 1, start, size);
        }

        private (ConfigNode, int) Mapping(int depth)
        {
            var start = parser.Consume<MappingStart>();
            var entries = new List<KeyValuePair<ScalarNode, ConfigNode>>();
            var size = 1;
            while (!parser.TryConsume<MappingEnd>(out _))
            {
                if (parser.Current is not Scalar { Tag.IsEmpty: true, Anchor.IsEmpty: true } keyEvent)
                    throw new ConfigException(Where, "", "expected a plain key");
                parser.MoveNext();
                var key = new ScalarNode(keyEvent.Value, true, Loc(keyEvent));
                if (entries.Any(e => e.Key.Value == key.Value)) throw new ConfigException(key.Location, key.Value, "duplicate key");
                var (value, valueSize) = Node(depth + 1);
                entries.Add(new(key, value));
                size += valueSize + 1;
            }
            return Count(new MappingNode(entries, Loc(start)), 1, start, size);
        }

        /// <summary>Adds a node's own count (1 for a built node, its whole size for an alias) to the budget.</summary>
        private (ConfigNode, int) Count(ConfigNode node, int added, ParsingEvent at, int? size = null)
        {
            nodes += added;
            if (nodes > MaxNodes)
                throw new ConfigException(Loc(at), "", $"the document expands to more than {MaxNodes} values (aliases included); YAML aliases must not multiply a config");
            return (node, size ?? added);
        }

        private SourceLocation Loc(ParsingEvent e) => new(source, (int)e.Start.Line, (int)e.Start.Column);
    }
}
