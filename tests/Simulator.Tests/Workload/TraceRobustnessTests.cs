using Simulator.Config;
using Simulator.Randomness;
using Simulator.Specs;
using Simulator.Workload;

namespace Simulator.Tests.Workload;

public sealed class TraceRobustnessTests
{
    private static readonly ModelSpec Model = new("m", 2, 64, 4, 4, 16, 256, 100, FfnKind.Gelu, MaxPositionTokens: 2048, TiedEmbeddings: true);

    private const string VidurHeader = "arrived_at,num_prefill_tokens,num_decode_tokens\n";

    private static (RequestSpec[] Requests, WorkloadStats Stats) Build(TraceWorkload trace) =>
        WorkloadBuilder.Build(trace, Model, new RandomStreams(1));

    [Theory]
    [InlineData("0.5,100\n", 8, "expected at least 3 fields")]
    [InlineData("0.5,1\"00,5\n", 6, "a quote inside an unquoted field")]
    [InlineData("0.5,\"100,5\n", 5, "never closed")]
    [InlineData("0.5,\"100\"x,5\n", 10, "after the closing quote")]
    [InlineData("0.5;100;5\n", 10, "expected at least 3 fields")]
    [InlineData("0.5,1\u000100,5\n", 6, "control character U+0001")]
    [InlineData("1e12,100,5\n", 1, "expected seconds from 0 to")]
    [InlineData("0.5,-4,5\n", 5, "expected a positive integer")]
    [InlineData("0.5,99999999999,5\n", 5, "expected a positive integer")]
    public void Malformed_Csv_Row_Should_Be_Reported_At_Its_Line_And_Column_Or_Skipped(string row, int column, string expected)
    {
        // Given a trace whose second data row is malformed
        using var dir = new TempDir();
        var path = dir.File("t.csv", VidurHeader + "0,10,5\n" + row + "1,10,5\n");
        // When read strictly, Then the error names file:line:column and what was expected
        var e = Assert.Throws<ConfigException>(() => Build(new TraceWorkload(TraceFormat.Vidur, path)));
        Assert.Equal((3, column), (e.Location!.Line, e.Location.Column));
        Assert.Contains(expected, e.Message);
        // When skipping, Then the row is counted and the others kept
        var (requests, stats) = Build(new TraceWorkload(TraceFormat.Vidur, path, OnMalformed: MalformedLines.Skip));
        Assert.Equal((2, 1), (requests.Length, stats.SkippedMalformed));
    }

    [Theory]
    [InlineData("{\"timestamp\": 1e300, \"input_length\": 5, \"output_length\": 5}")]
    [InlineData("[1, 2]")]
    [InlineData("{\"timestamp\": 1, \"input_length\": 5")]
    [InlineData("\u0000\u0001binary")]
    public void Malformed_Json_Line_Should_Be_A_Config_Error(string line)
    {
        using var dir = new TempDir();
        var path = dir.File("t.jsonl", "{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 5}\n" + line + "\n");
        var e = Assert.Throws<ConfigException>(() => Build(new TraceWorkload(TraceFormat.Mooncake, path)));
        Assert.Equal(2, e.Location!.Line);
        Assert.Equal(1, Build(new TraceWorkload(TraceFormat.Mooncake, path, OnMalformed: MalformedLines.Skip)).Stats.SkippedMalformed);
    }

    [Fact]
    public void Request_Longer_Than_Any_Context_Should_Be_Refused_Unless_Dropped_Or_Clipped()
    {
        // Given a row whose lengths overflow 32-bit addition
        using var dir = new TempDir();
        var path = dir.File("t.csv", VidurHeader + "0,2147483647,10\n1,10,5\n");
        // Then it is refused at its line, left out by max_request_tokens, or clipped by clip_to_context
        var e = Assert.Throws<ConfigException>(() => Build(new TraceWorkload(TraceFormat.Vidur, path)));
        Assert.Equal(2, e.Location!.Line);
        Assert.Contains("2147483657 tokens", e.Message);
        Assert.Equal(1, Build(new TraceWorkload(TraceFormat.Vidur, path, MaxRequestTokens: 1000)).Stats.DroppedTooLong);
        var (clipped, stats) = Build(new TraceWorkload(TraceFormat.Vidur, path, ClipToContext: true));
        Assert.Equal((2047, 1, 1), (clipped[0].PromptTokens, clipped[0].OutputTokens, stats.Clipped));
    }

    [Fact]
    public void Arrival_Beyond_The_Clock_Should_Be_Refused_When_No_Window_Ends_Before_It()
    {
        using var dir = new TempDir();
        var path = dir.File("t.csv", VidurHeader + "0,10,5\n999999999,10,5\n");
        var e = Assert.Throws<ConfigException>(() => Build(new TraceWorkload(TraceFormat.Vidur, path, RateScale: 0.1)));
        Assert.Equal(3, e.Location!.Line);
        Assert.Single(Build(new TraceWorkload(TraceFormat.Vidur, path, RateScale: 0.1, DurationS: 10)).Requests);
    }

    [Fact]
    public void Unsorted_Rows_And_Blank_Lines_Should_Be_Counted_And_Reported()
    {
        using var dir = new TempDir();
        var path = dir.File("t.csv", VidurHeader + "2,10,5\n\n   \n1,10,5\n0,10,5\n");
        var (requests, stats) = Build(new TraceWorkload(TraceFormat.Vidur, path));
        Assert.Equal(3, requests.Length);
        Assert.Equal((2, 2), (stats.Unsorted, stats.BlankLines));
        Assert.Equal(2, stats.Warnings().Count());
    }

    [Fact]
    public void Quoted_Fields_Should_Be_Read_When_Well_Formed()
    {
        using var dir = new TempDir();
        var path = dir.File("t.csv", "\"arrived_at\",num_prefill_tokens,num_decode_tokens\n\"0.5\", 10 ,\"5\"\n");
        Assert.Equal([new RequestSpec(0, 0, 10, 5)], Build(new TraceWorkload(TraceFormat.Vidur, path)).Requests);
    }
}
