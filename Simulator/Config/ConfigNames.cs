using System.Reflection;
using System.Text;

namespace Simulator.Config;

/// <summary>How config records map to YAML: snake_case keys from constructor parameters.</summary>
internal static class ConfigNames
{
    public static string Snake(string name)
    {
        var sb = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                var previousLower = i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]));
                var acronymEnd = i > 0 && char.IsUpper(name[i - 1]) && i + 1 < name.Length && char.IsLower(name[i + 1]);
                if (previousLower || acronymEnd) sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
            }
            else sb.Append(c);
        }
        return sb.ToString();
    }

    public static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    public static ParameterInfo[] Fields(Type record) => record.GetConstructors().Single().GetParameters();

    public static bool IsRecord(Type type) =>
        type.IsClass && type != typeof(string) && !type.IsAbstract && type.GetConstructors().Length == 1;

    public static string EnumName(object value) => Snake(value.ToString()!);

    public static IReadOnlyList<ConfigVariantAttribute> Variants(Type union) =>
        union.GetCustomAttributes<ConfigVariantAttribute>().ToList();

    /// <summary>The closest of <paramref name="candidates"/> to a misspelt <paramref name="word"/>, if close enough.</summary>
    public static string? Suggest(string word, IEnumerable<string> candidates) =>
        candidates.Select(c => (c, d: Distance(word, c)))
            .Where(x => x.d <= Math.Max(2, word.Length / 3))
            .OrderBy(x => x.d).ThenBy(x => x.c, StringComparer.Ordinal)
            .Select(x => x.c).FirstOrDefault();

    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var diagonal = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }
}
