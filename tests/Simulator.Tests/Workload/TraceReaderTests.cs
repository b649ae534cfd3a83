using Simulator.Config;
using Simulator.Randomness;
using Simulator.Specs;
using Simulator.Workload;

namespace Simulator.Tests.Workload;

public sealed class TraceReaderTests
{
    private static readonly ModelSpec Model = new("m", 2, 64, 4, 4, 16, 256, 100, FfnKind.Gelu, MaxPositionTokens: 2048, TiedEmbeddings: true);

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "traces", name);

    private static (RequestSpec[] Requests, WorkloadStats Stats) Build(TraceWorkload trace) =>
        WorkloadBuilder.Build(trace, Model, new RandomStreams(1));

    [Fact]
    public void Azure_2023_Should_Read_Crlf_Rows_Sorted_By_Arrival_Relative_To_The_First()
    {
        var (requests, stats) = Build(new TraceWorkload(TraceFormat.Azure2023, Fixture("azure2023.csv")));

        Assert.Equal([0L, 819_410_000L, 4_314_579_000L, 4_319_410_000L], requests.Select(r => r.ArrivalNs));
        Assert.Equal([374, 80, 396, 1200], requests.Select(r => r.PromptTokens));
        Assert.Equal(Enumerable.Range(0, 4), requests.Select(r => r.Id));
        Assert.Equal(4, stats.Requests);
    }

    [Fact]
    public void Azure_2024_Should_Accept_Time_Zones_And_Optional_Fractions()
    {
        var (requests, _) = Build(new TraceWorkload(TraceFormat.Azure2024, Fixture("azure2024.csv")));
        // 02:00:02.5+02:00 is 00:00:02.5 UTC.
        Assert.Equal([0L, 990_184_000L, 2_490_184_000L], requests.Select(r => r.ArrivalNs));
    }

    [Fact]
    public void Mooncake_Should_Read_Milliseconds_And_Skip_Blank_Lines()
    {
        var (requests, _) = Build(new TraceWorkload(TraceFormat.Mooncake, Fixture("mooncake.jsonl")));
        Assert.Equal([0L, 250_000_000L, 1_000_000_000L], requests.Select(r => r.ArrivalNs));
        Assert.Equal([500, 3, 1], requests.Select(r => r.OutputTokens));
    }

    [Fact]
    public void BurstGpt_Should_Drop_Failed_Requests_And_Count_Them()
    {
        var (requests, stats) = Build(new TraceWorkload(TraceFormat.Burstgpt, Fixture("burstgpt.csv")));
        Assert.Equal([472, 300], requests.Select(r => r.PromptTokens));
        Assert.Equal(1, stats.DroppedFailed);
        Assert.Equal(3, stats.RowsRead);
    }

    [Fact]
    public void Vidur_Should_Read_Seconds()
    {
        var (requests, _) = Build(new TraceWorkload(TraceFormat.Vidur, Fixture("vidur.csv")));
        Assert.Equal([0L, 100_000_000L, 350_000_000L], requests.Select(r => r.ArrivalNs));
    }

    [Fact]
    public void Lengths_Should_Take_Arrivals_From_The_Process()
    {
        var (requests, _) = Build(new TraceWorkload(TraceFormat.Lengths, Fixture("lengths.csv"), new BurstArrivals()));
        Assert.All(requests, r => Assert.Equal(0, r.ArrivalNs));
        Assert.Equal([100, 200, 300, 400], requests.Select(r => r.PromptTokens));
    }

    [Fact]
    public void Rate_Scale_Window_And_First_N_Should_Select_And_Compress()
    {
        var trace = new TraceWorkload(TraceFormat.Vidur, Fixture("vidur.csv"), RateScale: 2, StartS: 0.04, DurationS: 1, MaxRequests: 1);
        var (requests, _) = Build(trace);
        // Arrivals become 0, 0.05, 0.175 s; the window from 0.04 s keeps the last two, max_requests the first of them.
        Assert.Equal([new RequestSpec(0, 10_000_000, 1024, 32)], requests);
    }

    [Fact]
    public void Clip_To_Context_Should_Fit_Prompt_And_Output_In_The_Context()
    {
        var (requests, stats) = Build(new TraceWorkload(TraceFormat.Mooncake, Fixture("mooncake.jsonl"), ClipToContext: true));
        Assert.Equal((2047, 1), (requests[0].PromptTokens, requests[0].OutputTokens));
        Assert.Equal(1, stats.Clipped);
    }

    [Fact]
    public void Max_Request_Tokens_Should_Leave_Out_Longer_Requests_And_Count_Them()
    {
        // The first request has 6,758 + 500 tokens; the others 103 and 43.
        var (requests, stats) = Build(new TraceWorkload(TraceFormat.Mooncake, Fixture("mooncake.jsonl"), MaxRequestTokens: 103));
        Assert.Equal([(100, 3), (42, 1)], requests.Select(r => (r.PromptTokens, r.OutputTokens)));
        Assert.Equal([250_000_000L, 1_000_000_000L], requests.Select(r => r.ArrivalNs)); // the trace's clock is kept
        Assert.Equal(1, stats.DroppedTooLong);
        Assert.Equal(2, stats.Requests);
    }

    [Theory]
    [InlineData("azure2023.csv", TraceFormat.Azure2023, "2023-11-16 18:15:50.9951690,396,109", "2023-13-16 18:15:50.9951690,396,109", 3)]
    [InlineData("azure2023.csv", TraceFormat.Azure2023, "2023-11-16 18:15:50.9951690,396,109", "2023-11-16 18:15:50.9951690,-4,109", 3)]
    [InlineData("vidur.csv", TraceFormat.Vidur, "0.1,1024,32,1056", "0.1,1024,x,1056", 3)]
    [InlineData("mooncake.jsonl", TraceFormat.Mooncake, "\"timestamp\": 250,", "\"timestamp\": \"soon\",", 2)]
    [InlineData("mooncake.jsonl", TraceFormat.Mooncake, "\"timestamp\": 250,", "", 2)]
    public void Malformed_Line_Should_Fail_With_Its_Line_Number_Or_Be_Skipped(string fixture, TraceFormat format, string from, string to, int line)
    {
        using var dir = new TempDir();
        var path = dir.File(fixture, File.ReadAllText(Fixture(fixture)).Replace(from, to));

        var e = Assert.Throws<ConfigException>(() => Build(new TraceWorkload(format, path)));
        var (requests, stats) = Build(new TraceWorkload(format, path, OnMalformed: MalformedLines.Skip));

        Assert.Equal(path, e.Location!.File);
        Assert.Equal(line, e.Location.Line);
        Assert.Contains("malformed line", e.Message);
        Assert.Equal(1, stats.SkippedMalformed);
        Assert.Equal(stats.RowsRead - 1, requests.Length);
    }

    [Fact]
    public void Wrong_Format_Should_Name_The_Missing_Column()
    {
        var e = Assert.Throws<ConfigException>(() => Build(new TraceWorkload(TraceFormat.Vidur, Fixture("azure2023.csv"))));
        Assert.Contains("column 'arrived_at' missing", e.Message);
    }

    [Fact]
    public void Shared_Azure_Traces_Should_Match_Their_Published_Statistics()
    {
        if (RepoPaths.SharedTraces is not { } dir)
        {
            Console.WriteLine("skipped: ../shared/traces is absent");
            return;
        }
        var (conv, _) = Build(new TraceWorkload(TraceFormat.Azure2023, Path.Combine(dir, "AzureLLMInferenceTrace_conv.csv")));
        var (code, _) = Build(new TraceWorkload(TraceFormat.Azure2023, Path.Combine(dir, "AzureLLMInferenceTrace_code.csv")));
        var (mooncake, _) = Build(new TraceWorkload(TraceFormat.Mooncake, Path.Combine(dir, "mooncake_conversation.jsonl")));

        // Row counts and means from ../shared/traces/README.md.
        Assert.Equal(19_366, conv.Length);
        Assert.Equal(1155, conv.Average(r => r.PromptTokens), 0);
        Assert.Equal(211, conv.Average(r => r.OutputTokens), 0);
        Assert.Equal(8_819, code.Length);
        Assert.Equal(2048, code.Average(r => r.PromptTokens), 0);
        Assert.Equal(12_031, mooncake.Length);
        Assert.Equal(126_195, mooncake.Max(r => r.PromptTokens));
        Assert.InRange(Units.Seconds(conv[^1].ArrivalNs), 3000, 4000);
    }
}
