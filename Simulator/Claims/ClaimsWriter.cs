using System.Text;
using Simulator.Output;

namespace Simulator.Claims;

/// <summary>Writes the claims ledger (<see cref="ClaimsLedger"/>) as <c>claims.csv</c> and <c>claims.md</c> into a marked results folder.</summary>
public static class ClaimsWriter
{
    public const string Folder = "paper-claims";
    public const string CsvFile = "claims.csv";
    public const string MarkdownFile = "claims.md";

    /// <summary>Writes both files (each atomically) into <paramref name="dir"/>, which must be absent, empty or a results folder.</summary>
    public static void Write(string dir, IReadOnlyList<Claim> claims)
    {
        ResultsTarget.Claim(dir);
        ResultsFolder.WriteFileAtomically(Path.Combine(dir, CsvFile), tmp => CsvTable.Write(tmp,
            ["id", "claim", "config", "paper", "ours", "verdict", "mechanism_and_assumption"], claims,
            c => [c.Id, c.Statement, c.Config, c.PaperText, c.OursText, Name(c.Verdict), c.Mechanism]));
        ResultsFolder.WriteFileAtomically(Path.Combine(dir, MarkdownFile), tmp => File.WriteAllText(tmp, Markdown(claims)));
    }

    public static string Name(Verdict verdict) => verdict switch
    {
        Verdict.Reproduced => "reproduced",
        Verdict.SameDirection => "same direction",
        Verdict.Contradicted => "contradicted",
        Verdict.DependsOnPaperInput => "rests on the paper's own figure",
        _ => "not run",
    };

    private static string Markdown(IReadOnlyList<Claim> claims)
    {
        var md = new StringBuilder();
        md.AppendLine("# The paper's quantitative claims against the model");
        md.AppendLine();
        md.AppendLine("Written by `reproduce` from the paper configs' results (`results/paper-*`); every claim of DESIGN.md section 2, the config that");
        md.AppendLine("tests it, the paper's figure (from secondary summaries of AlignedServe, SIGMOD 2026), ours, and a verdict: *reproduced* within");
        md.AppendLine("10% (a bound: it holds), *same direction* (a gain above 1, a change of the paper's sign, a level within a factor of two, a missed");
        md.AppendLine("bound whose ordering holds), *contradicted*, *not run* (its runs are missing, e.g. without the traces), or *rests on the");
        md.AppendLine("paper's own figure* (our figure depends on an input taken from another of the paper's claims, and replacing it by an independent");
        md.AppendLine("one, shown in brackets, changes the verdict). No parameter was tuned to any of these; each names its mechanism and the");
        md.AppendLine("assumption that decides it.");
        md.AppendLine();
        var counts = claims.GroupBy(c => c.Verdict).OrderBy(g => g.Key).Select(g => $"{g.Count()} {Name(g.Key)}");
        md.AppendLine($"{claims.Count} claims: {string.Join(", ", counts)}.");
        md.AppendLine();
        md.AppendLine("| claim | config | paper | ours | verdict |");
        md.AppendLine("|---|---|---:|---:|---|");
        foreach (var c in claims) md.AppendLine($"| {c.Statement} | {c.Config} | {c.PaperText} | {c.OursText} | {Name(c.Verdict)} |");
        md.AppendLine();
        md.AppendLine("## Mechanisms and assumptions");
        md.AppendLine();
        md.AppendLine("For every claim, reproduced or not: the mechanism and the assumption that decide it.");
        md.AppendLine();
        foreach (var c in claims)
            md.AppendLine($"- **{c.Statement}** ({Name(c.Verdict)}; paper {c.PaperText}, ours {c.OursText}): {c.Mechanism}");
        return md.ToString();
    }
}
