using System.Globalization;

namespace Simulator.Claims;

/// <summary>How a claim's figure is compared with ours.</summary>
public enum ClaimKind
{
    /// <summary>AlignedServe's gain as a ratio over a baseline (above 1: aligned better).</summary>
    Gain,

    /// <summary>A signed relative change (e.g. -0.147: 14.7% less).</summary>
    Change,

    /// <summary>A quantity with no direction of its own (a rate, a share, a time).</summary>
    Level,

    /// <summary>A share that must reach at least the paper's figure.</summary>
    AtLeast,

    /// <summary>A share that must stay at most the paper's figure.</summary>
    AtMost,
}

/// <summary>The ledger's verdicts (the three, and one for a claim whose runs are missing).</summary>
public enum Verdict
{
    /// <summary>Within 10% of the paper's figure (or, for a bound, the bound holds).</summary>
    Reproduced,

    /// <summary>Not within 10%, but the same direction: a gain above 1, a change of the same sign, a level within a factor of two, a bound missed with the ordering it implies kept.</summary>
    SameDirection,

    Contradicted,

    /// <summary>The runs that test it are missing (e.g. the traces are absent).</summary>
    NotRun,

    /// <summary>
    /// Our figure's verdict changes when an input the model took from the paper's own figures is replaced by an independent
    /// one (<see cref="Claim.Independent"/>): the claim is not tested, only restated.
    /// </summary>
    DependsOnPaperInput,
}

/// <summary>One quantitative claim of the paper (DESIGN section 2), the config that tests it, and our figure.</summary>
/// <param name="Id">Short key (csv).</param>
/// <param name="Statement">The claim in words.</param>
/// <param name="Config">The paper config and point that tests it.</param>
/// <param name="Paper">The paper's figure.</param>
/// <param name="Ours">Our figure (NaN: not run).</param>
/// <param name="Holds">For a bound or a range missed: whether the ordering it implies holds (null: no such ordering).</param>
/// <param name="Mechanism">For a claim not reproduced: the mechanism and the assumption that decide it, with the runs' numbers.</param>
/// <param name="PaperHigh">The top of the paper's range, for a claimed range (then <paramref name="OursHigh"/> is ours).</param>
/// <param name="Unit">Display unit of a level ("%" shows a share in percent).</param>
/// <param name="Independent">
/// Where <paramref name="Ours"/> rests on an input taken from the paper's own figures: our figure with that input replaced by
/// an independent one (NaN: none). When the two verdicts differ the claim's verdict is <see cref="Verdict.DependsOnPaperInput"/>.
/// </param>
public sealed record Claim(string Id, string Statement, string Config, ClaimKind Kind, double Paper, double Ours, bool? Holds, string Mechanism,
    double PaperHigh = double.NaN, double OursHigh = double.NaN, string Unit = "", double Independent = double.NaN)
{
    /// <summary>Reproduced within 10%, the same direction, or contradicted (rules in <see cref="Verdict"/>); or resting on an input from the paper.</summary>
    public Verdict Verdict
    {
        get
        {
            var own = VerdictOf(Ours);
            return double.IsFinite(Independent) && own != Verdict.NotRun && VerdictOf(Independent) != own ? Verdict.DependsOnPaperInput : own;
        }
    }

    private Verdict VerdictOf(double value)
    {
        if (!double.IsFinite(value)) return Verdict.NotRun;
        bool Within(double x, double paper) => Math.Abs(x - paper) <= 0.1 * Math.Abs(paper);
        if (double.IsFinite(PaperHigh))
            return Within(value, Paper) && Within(OursHigh, PaperHigh) ? Verdict.Reproduced
                : value > 1 ? Verdict.SameDirection : Verdict.Contradicted;
        return Kind switch
        {
            ClaimKind.Gain => Within(value, Paper) ? Verdict.Reproduced : value > 1 ? Verdict.SameDirection : Verdict.Contradicted,
            ClaimKind.Change => Within(value, Paper) ? Verdict.Reproduced
                : Math.Sign(value) == Math.Sign(Paper) && Math.Abs(value) >= 0.01 ? Verdict.SameDirection : Verdict.Contradicted,
            ClaimKind.Level => Within(value, Paper) ? Verdict.Reproduced
                : value > 0 && value / Paper is >= 0.5 and <= 2 ? Verdict.SameDirection : Verdict.Contradicted,
            ClaimKind.AtLeast => value >= Paper ? Verdict.Reproduced : Holds == true ? Verdict.SameDirection : Verdict.Contradicted,
            ClaimKind.AtMost => value <= Paper ? Verdict.Reproduced : Holds == true ? Verdict.SameDirection : Verdict.Contradicted,
            _ => Verdict.Contradicted,
        };
    }

    public string PaperText => Format(Paper, PaperHigh);

    public string OursText => !double.IsFinite(Ours) ? "not run"
        : double.IsFinite(Independent) ? $"{Format(Ours, OursHigh)} ({F(Independent)} independently)" : Format(Ours, OursHigh);

    private string Format(double low, double high) => double.IsFinite(high) ? $"{F(low)}-{F(high)}" : F(low);

    private string F(double x) => Kind switch
    {
        ClaimKind.Gain => x.ToString("0.00", CultureInfo.InvariantCulture) + "x",
        ClaimKind.Change => (x * 100).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture) + "%",
        ClaimKind.AtLeast or ClaimKind.AtMost => (x * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%",
        _ when Unit == "%" => (x * 100).ToString("0.00", CultureInfo.InvariantCulture) + "%",
        _ => x.ToString(Math.Abs(x) >= 1000 ? "N0" : "G4", CultureInfo.InvariantCulture) + (Unit.Length > 0 ? " " + Unit : ""),
    };
}
