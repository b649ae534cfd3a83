using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using Policies;

namespace Simulator.Config;

/// <summary>
/// Strictly binds a <see cref="ConfigNode"/> tree to immutable config records: keys are the
/// snake_case names of the record's constructor parameters; a parameter without a default is
/// required (a nested record whose fields all have defaults may be left out); ranges come
/// from <see cref="RangeAttribute"/>. Every failure is a <see cref="ConfigException"/> naming
/// the source position, the field path and what was expected.
/// </summary>
public sealed class ConfigBinder(Catalog catalog)
{
    private static readonly NullabilityInfoContext Nullability = new();

    public T Bind<T>(ConfigNode node) => (T)Bind(typeof(T), node, "")!;

    public object? Bind(Type type, ConfigNode node, string path)
    {
        if (node is ScalarNode { IsNull: true } && Nullable.GetUnderlyingType(type) is not null) return null;
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(PolicyConfig)) return BindPolicy(node, path);
        if (type.GetCustomAttribute<ConfigUnionAttribute>() is { } union) return BindUnion(type, union, node, path);
        if (IsList(type, out var element))
        {
            if (node is not SequenceNode seq) throw Expected(node, path, type);
            var array = Array.CreateInstance(element, seq.Items.Count);
            for (var i = 0; i < seq.Items.Count; i++) array.SetValue(Bind(element, seq.Items[i], $"{path}[{i}]"), i);
            return array;
        }
        if (ConfigNames.IsRecord(type))
            return node is MappingNode map ? BindRecord(type, map, path) : throw Expected(node, path, type);
        if (node is not ScalarNode scalar || scalar.IsNull) throw Expected(node, path, type);
        return ParseScalar(type, scalar, path);
    }

    /// <summary>Binds a mapping to a record; <paramref name="ignoredKey"/> is a key handled by the caller.</summary>
    public object BindRecord(Type type, MappingNode map, string path, string? ignoredKey = null)
    {
        var fields = ConfigNames.Fields(type);
        var keys = fields.Select(f => ConfigNames.Snake(f.Name!)).ToList();
        foreach (var (key, _) in map.Entries)
        {
            if (key.Value == ignoredKey || keys.Contains(key.Value)) continue;
            var hint = ConfigNames.Suggest(key.Value, keys) is { } s ? $" (did you mean '{s}'?)" : "";
            throw new ConfigException(key.Location, ConfigNames.Join(path, key.Value),
                $"unknown key{hint}; expected one of: {string.Join(", ", keys)}");
        }
        var values = new object?[fields.Length];
        for (var i = 0; i < fields.Length; i++)
            values[i] = BindField(fields[i], keys[i], map, ConfigNames.Join(path, keys[i]));
        var instance = type.GetConstructors().Single().Invoke(values);
        if (instance is IValidatedConfig validated)
            foreach (var (field, problem) in validated.Validate())
                throw new ConfigException(Find(map, field)?.Location ?? map.Location, ConfigNames.Join(path, field), problem);
        return instance;
    }

    private object? BindField(ParameterInfo field, string key, MappingNode map, string path)
    {
        var node = map[key];
        var type = field.ParameterType;
        if (field.GetCustomAttribute<CatalogAttribute>() is { } cat && node is not null)
            node = catalog.Resolve(cat.Folder, node, path);
        if (node is null)
        {
            if (field.HasDefaultValue)
                return field.DefaultValue is { } d && type.IsEnum ? Enum.ToObject(type, d) : field.DefaultValue;
            if (ConfigNames.IsRecord(type) && ConfigNames.Fields(type).All(f => f.HasDefaultValue))
                return BindRecord(type, new MappingNode([], map.Location), path);
            throw new ConfigException(map.Location, path, $"missing required field '{key}' (expected {Describe(type)})");
        }
        if (node is ScalarNode { IsNull: true } && Nullability.Create(field).WriteState == NullabilityState.Nullable)
            return null;
        var value = Bind(type, node, path);
        CheckRange(field, value, node, path);
        if (value is string relative && field.GetCustomAttribute<FilePathAttribute>() is { } filePath)
            value = filePath.Scheme is { } scheme && relative.StartsWith(scheme + ":", StringComparison.Ordinal)
                ? $"{scheme}:{ResolvePath(relative[(scheme.Length + 1)..], node.Location)}"
                : ResolvePath(relative, node.Location);
        return value;
    }

    /// <summary>The node at a dotted path below <paramref name="map"/>, or null.</summary>
    private static ConfigNode? Find(MappingNode map, string dotted)
    {
        ConfigNode? node = map;
        foreach (var key in dotted.Split('.')) node = (node as MappingNode)?[key];
        return node;
    }

    private static string ResolvePath(string path, SourceLocation where)
    {
        var baseDir = File.Exists(where.File) ? Path.GetDirectoryName(Path.GetFullPath(where.File))! : Directory.GetCurrentDirectory();
        return Path.GetFullPath(Path.Combine(baseDir, path));
    }

    private static void CheckRange(ParameterInfo field, object? value, ConfigNode node, string path)
    {
        if (field.GetCustomAttribute<RangeAttribute>() is not { } range || value is null) return;
        var x = Convert.ToDouble(value, CultureInfo.InvariantCulture);
        var min = Convert.ToDouble(range.Minimum, CultureInfo.InvariantCulture);
        var max = Convert.ToDouble(range.Maximum, CultureInfo.InvariantCulture);
        var belowMin = range.MinimumIsExclusive ? x <= min : x < min;
        var aboveMax = range.MaximumIsExclusive ? x >= max : x > max;
        if (!belowMin && !aboveMax) return;
        var lo = range.MinimumIsExclusive ? "(" : "[";
        var hi = range.MaximumIsExclusive ? ")" : "]";
        var what = field.GetCustomAttribute<DescriptionAttribute>()?.Description;
        throw new ConfigException(node.Location, path,
            $"value {x.ToString(CultureInfo.InvariantCulture)} is out of range; expected a value in {lo}{Fmt(min)}, {Fmt(max)}{hi}{(what is null ? "" : $" ({what})")}");
    }

    private static string Fmt(double x) =>
        Math.Abs(x) >= 1e15 ? (x > 0 ? "inf" : "-inf") : x.ToString(CultureInfo.InvariantCulture);

    private object BindUnion(Type type, ConfigUnionAttribute union, ConfigNode node, string path)
    {
        var variants = ConfigNames.Variants(type);
        var names = string.Join(", ", variants.Select(v => v.Name));
        if (node is not MappingNode map) throw new ConfigException(node.Location, path, $"expected a mapping with '{union.DiscriminatorKey}: <{names}>'");
        var keyPath = ConfigNames.Join(path, union.DiscriminatorKey);
        if (map[union.DiscriminatorKey] is not ScalarNode kind)
            throw new ConfigException(map.Location, keyPath, $"missing required field '{union.DiscriminatorKey}' (expected one of: {names})");
        var variant = variants.FirstOrDefault(v => v.Name == kind.Value);
        if (variant is null)
        {
            var hint = ConfigNames.Suggest(kind.Value, variants.Select(v => v.Name)) is { } s ? $" (did you mean '{s}'?)" : "";
            throw new ConfigException(kind.Location, keyPath, $"unknown value '{kind.Value}'{hint}; expected one of: {names}");
        }
        return BindRecord(variant.Type, map, path, union.DiscriminatorKey);
    }

    private PolicyConfig BindPolicy(ConfigNode node, string path)
    {
        var names = string.Join(", ", PolicyRegistry.Names);
        var map = node switch
        {
            ScalarNode { IsNull: false } s => MappingNode.NameOnly(s),
            MappingNode m => m,
            _ => throw new ConfigException(node.Location, path, $"expected a policy name or a mapping with 'name' (one of: {names})"),
        };
        if (map["name"] is not ScalarNode name)
            throw new ConfigException(map.Location, ConfigNames.Join(path, "name"), $"missing required field 'name' (expected one of: {names})");
        var descriptor = PolicyRegistry.Find(name.Value);
        if (descriptor is null)
        {
            var hint = ConfigNames.Suggest(name.Value, PolicyRegistry.Names) is { } s ? $" (did you mean '{s}'?)" : "";
            throw new ConfigException(name.Location, ConfigNames.Join(path, "name"), $"unknown policy '{name.Value}'{hint}; valid policies: {names}");
        }
        return new PolicyConfig(descriptor.Name, BindRecord(descriptor.OptionsType, map, path, "name"));
    }

    private static object ParseScalar(Type type, ScalarNode scalar, string path)
    {
        var text = scalar.Value.Trim();
        var numeric = scalar.IsPlain ? text.Replace("_", "") : text;
        const NumberStyles integer = NumberStyles.AllowLeadingSign;
        object? value = type switch
        {
            _ when type == typeof(string) => scalar.Value,
            _ when type == typeof(int) => int.TryParse(numeric, integer, CultureInfo.InvariantCulture, out var i) ? i : null,
            _ when type == typeof(long) => long.TryParse(numeric, integer, CultureInfo.InvariantCulture, out var l) ? l : null,
            _ when type == typeof(double) => double.TryParse(numeric, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) ? d : null,
            _ when type == typeof(bool) => text switch { "true" => true, "false" => false, _ => null },
            _ when type.IsEnum => Enum.GetValues(type).Cast<object>().FirstOrDefault(v => ConfigNames.EnumName(v) == text),
            _ => throw new InvalidOperationException($"Config type {type} is not supported."),
        };
        return value ?? throw new ConfigException(scalar.Location, path, $"expected {Describe(type)}, found '{scalar.Value}'");
    }

    private static ConfigException Expected(ConfigNode node, string path, Type type)
    {
        var found = node switch
        {
            MappingNode => "a mapping",
            SequenceNode => "a list",
            ScalarNode { IsNull: true } => "nothing",
            ScalarNode s => $"'{s.Value}'",
            _ => "something else",
        };
        return new ConfigException(node.Location, path, $"expected {Describe(type)}, found {found}");
    }

    public static string Describe(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(int) || type == typeof(long)) return "an integer";
        if (type == typeof(double)) return "a number";
        if (type == typeof(bool)) return "true or false";
        if (type == typeof(string)) return "a string";
        if (type == typeof(PolicyConfig)) return "a policy name or mapping";
        if (type.IsEnum) return $"one of: {string.Join(", ", Enum.GetValues(type).Cast<object>().Select(ConfigNames.EnumName))}";
        if (type.GetCustomAttribute<ConfigUnionAttribute>() is { } union)
            return $"a mapping with '{union.DiscriminatorKey}: <{string.Join(", ", ConfigNames.Variants(type).Select(v => v.Name))}>'";
        if (IsList(type, out var element)) return $"a list of {Describe(element)}";
        return $"a mapping with keys {string.Join(", ", ConfigNames.Fields(type).Select(f => ConfigNames.Snake(f.Name!)))}";
    }

    private static bool IsList(Type type, out Type element)
    {
        element = typeof(object);
        if (type.IsArray)
        {
            element = type.GetElementType()!;
            return true;
        }
        if (!type.IsGenericType || type.GetGenericTypeDefinition() != typeof(IReadOnlyList<>)) return false;
        element = type.GetGenericArguments()[0];
        return true;
    }
}
