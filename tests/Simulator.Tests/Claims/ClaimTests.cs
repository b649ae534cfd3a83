using Simulator.Claims;

namespace Simulator.Tests.Claims;

/// <summary>The ledger's verdict rules, and a ledger written from results that are not there.</summary>
public sealed class ClaimTests
{
    private static Claim Of(ClaimKind kind, double paper, double ours, bool? holds = null) => new("id", "claim", "config", kind, paper, ours, holds, "why");

    [Theory]
    [InlineData(1.32, 1.25, Verdict.Reproduced)]
    [InlineData(1.32, 1.05, Verdict.SameDirection)]
    [InlineData(1.32, 0.95, Verdict.Contradicted)]
    public void A_Gain_Should_Be_Reproduced_Within_Ten_Percent_And_Keep_Its_Direction_Above_One(double paper, double ours, Verdict verdict) =>
        Assert.Equal(verdict, Of(ClaimKind.Gain, paper, ours).Verdict);

    [Theory]
    [InlineData(-0.1473, -0.14, Verdict.Reproduced)]
    [InlineData(-0.1473, -0.05, Verdict.SameDirection)]
    [InlineData(-0.1473, -0.005, Verdict.Contradicted)]
    [InlineData(-0.1473, 0.03, Verdict.Contradicted)]
    public void A_Change_Should_Keep_The_Papers_Sign_To_Go_The_Same_Direction(double paper, double ours, Verdict verdict) =>
        Assert.Equal(verdict, Of(ClaimKind.Change, paper, ours).Verdict);

    [Theory]
    [InlineData(1.49, 1.6, Verdict.Reproduced)]
    [InlineData(1.49, 2.9, Verdict.SameDirection)]
    [InlineData(1.49, 0.5, Verdict.Contradicted)]
    public void A_Level_Should_Go_The_Same_Direction_Within_A_Factor_Of_Two(double paper, double ours, Verdict verdict) =>
        Assert.Equal(verdict, Of(ClaimKind.Level, paper, ours).Verdict);

    [Theory]
    [InlineData(1.30, 0.85, Verdict.DependsOnPaperInput)]
    [InlineData(1.30, 1.31, Verdict.Reproduced)]
    [InlineData(0.80, 0.70, Verdict.Contradicted)]
    public void A_Claim_Resting_On_An_Input_From_The_Paper_Should_Say_So_When_An_Independent_Input_Changes_Its_Verdict(
        double ours, double independent, Verdict verdict)
    {
        var claim = Of(ClaimKind.Gain, 1.35, ours) with { Independent = independent };
        Assert.Equal(verdict, claim.Verdict);
        Assert.Contains("independently", claim.OursText);
    }

    [Fact]
    public void A_Bound_Should_Hold_Or_Keep_Its_Ordering()
    {
        Assert.Equal(Verdict.Reproduced, Of(ClaimKind.AtLeast, 0.9, 0.93).Verdict);
        Assert.Equal(Verdict.SameDirection, Of(ClaimKind.AtLeast, 0.9, 0.5, holds: true).Verdict);
        Assert.Equal(Verdict.Contradicted, Of(ClaimKind.AtLeast, 0.9, 0.5, holds: false).Verdict);
        Assert.Equal(Verdict.Reproduced, Of(ClaimKind.AtMost, 0.1, 0.07).Verdict);
        Assert.Equal(Verdict.NotRun, Of(ClaimKind.AtMost, 0.1, double.NaN).Verdict);
    }

    [Fact]
    public void A_Range_Should_Match_Both_Ends_To_Be_Reproduced()
    {
        Claim Range(double low, double high) => Of(ClaimKind.Gain, 1.74, low) with { PaperHigh = 3.05, OursHigh = high };
        Assert.Equal(Verdict.Reproduced, Range(1.8, 2.9).Verdict);
        Assert.Equal(Verdict.SameDirection, Range(1.2, 1.5).Verdict);
        Assert.Equal(Verdict.Contradicted, Range(0.2, 0.4).Verdict);
        Assert.Equal("1.74x-3.05x", Range(1.8, 2.9).PaperText);
    }

    [Fact]
    public void A_Ledger_From_The_Paper_Results_Should_Give_Our_Figure_For_Every_Claim_Whose_Runs_Need_No_Trace()
    {
        // Given the shipped paper configs run shortened (traces may be absent: their runs fail)
        var claims = ClaimsLedger.Build(Sweeps.PaperResults.Folder).ToDictionary(c => c.Id);

        // Then the synthetic-workload claims have figures and verdicts
        foreach (var id in new[] { "headline_vs_vllm", "headline_vs_distserve", "headline_vs_fastgen", "tpot_p99_sharegpt-like", "tpot_p99_synthetic",
                     "motivation_6_25_long", "ttft_mean_sharegpt-like", "ttft_mean_longbench-like", "switch_share_sharegpt-like" })
            Assert.True(double.IsFinite(claims[id].Ours) && claims[id].Verdict != Verdict.NotRun, $"{id}: {claims[id].OursText}");
    }

    [Fact]
    public void A_Ledger_Without_Results_Should_List_Every_Claim_As_Not_Run()
    {
        // Given an empty results folder
        var parent = Directory.CreateTempSubdirectory("claims-").FullName;
        try
        {
            // When
            var claims = ClaimsLedger.Build(parent);
            ClaimsWriter.Write(Path.Combine(parent, ClaimsWriter.Folder), claims);

            // Then every claim of DESIGN section 2 is there, none with a figure, and both files are written
            Assert.Equal(21, claims.Count);
            Assert.Equal(claims.Count, claims.Select(c => c.Id).Distinct().Count());
            Assert.All(claims, c => Assert.Equal(Verdict.NotRun, c.Verdict));
            var csv = File.ReadAllLines(Path.Combine(parent, ClaimsWriter.Folder, ClaimsWriter.CsvFile));
            Assert.Equal(claims.Count + 1, csv.Length);
            Assert.Contains("21 claims: 21 not run.", File.ReadAllText(Path.Combine(parent, ClaimsWriter.Folder, ClaimsWriter.MarkdownFile)));
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }
}
