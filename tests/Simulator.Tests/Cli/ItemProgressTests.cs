using Simulator.Cli;

namespace Simulator.Tests.Cli;

public sealed class ItemProgressTests
{
    [Theory]
    [InlineData(8, 1, 10, "about 72 s left")]
    [InlineData(10, 5, 10, "about 10 s left")]
    [InlineData(60, 1, 4, "about 3 min left")]
    [InlineData(3600, 1, 3, "about 2.0 h left")]
    [InlineData(10, 0, 10, "")]
    [InlineData(10, 10, 10, "")]
    public void Time_Left_Should_Assume_The_Remaining_Items_Take_The_Mean_So_Far(double elapsedS, int done, int total, string expected) =>
        Assert.Equal(expected, ItemProgress.Left(TimeSpan.FromSeconds(elapsedS), done, total));

    [Fact]
    public void Progress_Should_Write_One_Line_Per_Finished_Item_When_Not_On_A_Terminal()
    {
        // Given progress written to a log (not a terminal), with two stages under an overall count
        var log = new StringWriter();
        ItemProgress.Run(p =>
        {
            p.Overall("reproduce", 3);
            p.Stage("a: runs", 2);
            p.Finished("first", 1.2);
            p.Finished("second", 0.5, "boom");
            p.Stage("b: study", 1);
            p.Finished("third", 2);
            return 0;
        }, interactive: false, log: log);
        // Then the log has the stage lines and one line per item, counted within the stage and overall, and nothing else
        var lines = log.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, lines.Length);
        Assert.Equal("a: runs: 2 to do", lines[0]);
        Assert.StartsWith("[1/2, all 1/3] first: ok (1.2 s; about ", lines[1]);
        Assert.StartsWith("[2/2, all 2/3] second: FAILED: boom (0.5 s; about ", lines[2]);
        Assert.Equal("b: study: 1 to do", lines[3]);
        Assert.Equal("[1/1, all 3/3] third: ok (2.0 s)", lines[4]);
    }
}
