using System.Reflection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Primitives;

namespace Simulator.Reports;

/// <summary>
/// The report's Liquid templates and style sheet, shipped as embedded resources (Reports/Templates/), served to
/// Fluid's <c>{% render %}</c> as files so templates share partials without a folder beside the program.
/// </summary>
internal sealed class EmbeddedTemplates : IFileProvider
{
    private const string Prefix = "Simulator.Reports.Templates.";

    public static EmbeddedTemplates Instance { get; } = new();

    public static string Read(string name) =>
        Find(name) is { } text ? text : throw new InvalidOperationException($"the report template '{name}' is not embedded in the program");

    private static string? Find(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(Prefix + name);
        if (stream is null) return null;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public IFileInfo GetFileInfo(string subpath)
    {
        var name = subpath.TrimStart('/');
        return Find(name) is { } text ? new Template(name, text) : new NotFoundFileInfo(name);
    }

    public IDirectoryContents GetDirectoryContents(string subpath) => NotFoundDirectoryContents.Singleton;

    public IChangeToken Watch(string filter) => NullChangeToken.Singleton;

    private sealed class Template(string name, string text) : IFileInfo
    {
        private readonly byte[] bytes = System.Text.Encoding.UTF8.GetBytes(text);

        public bool Exists => true;
        public long Length => bytes.Length;
        public string? PhysicalPath => null;
        public string Name => name;
        public DateTimeOffset LastModified => DateTimeOffset.UnixEpoch;
        public bool IsDirectory => false;
        public Stream CreateReadStream() => new MemoryStream(bytes, writable: false);
    }
}
