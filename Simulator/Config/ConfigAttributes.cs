namespace Simulator.Config;

/// <summary>
/// The field names an entry of the catalog folder <see cref="Folder"/> (under configs/), given
/// either as a name (<c>model: opt-13b</c>) or as a mapping with <c>name</c> plus fields that
/// override the entry (<c>model: { name: opt-13b, layers: 8 }</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class CatalogAttribute(string folder) : Attribute
{
    public string Folder { get; } = folder;
}

/// <summary>An abstract config record whose concrete type is chosen by the value of one key.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class ConfigUnionAttribute(string discriminatorKey) : Attribute
{
    public string DiscriminatorKey { get; } = discriminatorKey;
}

/// <summary>One concrete type of a <see cref="ConfigUnionAttribute"/> union and its YAML name.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true)]
public sealed class ConfigVariantAttribute(string name, Type type) : Attribute
{
    public string Name { get; } = name;

    public Type Type { get; } = type;
}

/// <summary>A config record with rules across its fields, checked once at load.</summary>
public interface IValidatedConfig
{
    /// <summary>Problems found, each naming the offending field (snake_case, as in YAML).</summary>
    IEnumerable<(string Field, string Problem)> Validate();
}

/// <summary>
/// A file path, resolved against the folder of the config file that set it (or the current
/// folder for a command-line override), so experiments can name files next to themselves.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class FilePathAttribute : Attribute
{
    /// <summary>A prefix the value may carry (<c>scheme:path</c>, for example <c>vidur:DIR</c>): kept, and the path after it resolved.</summary>
    public string? Scheme { get; set; }
}
