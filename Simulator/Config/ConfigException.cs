namespace Simulator.Config;

/// <summary>
/// A config error: where (file:line:column), which field (dotted path) and what was expected.
/// The CLI prints <see cref="Exception.Message"/> and exits with code 2.
/// </summary>
public sealed class ConfigException(SourceLocation? location, string path, string problem)
    : Exception(Format(location, path, problem))
{
    public SourceLocation? Location { get; } = location;

    public string FieldPath { get; } = path;

    public string Problem { get; } = problem;

    private static string Format(SourceLocation? location, string path, string problem)
    {
        var where = location is null ? "" : $"{location}: ";
        var field = path.Length == 0 ? "" : $"'{path}': ";
        return $"{where}{field}{problem}";
    }
}
