using System.ComponentModel.DataAnnotations;
using Simulator.Config;

namespace Simulator.Workload;

/// <summary>Trace file formats the simulator reads.</summary>
public enum TraceFormat
{
    /// <summary>Azure LLM inference trace 2023: <c>TIMESTAMP,ContextTokens,GeneratedTokens</c>, <c>yyyy-MM-dd HH:mm:ss.fffffff</c>.</summary>
    Azure2023,

    /// <summary>Azure LLM inference trace 2024: same columns, timestamps with a time zone offset, fraction optional.</summary>
    Azure2024,

    /// <summary>Mooncake JSONL: <c>timestamp</c> (ms), <c>input_length</c>, <c>output_length</c>, <c>hash_ids</c>.</summary>
    Mooncake,

    /// <summary>BurstGPT CSV: <c>Timestamp</c> (s), <c>Request tokens</c>, <c>Response tokens</c>; rows with 0 response tokens are failed requests.</summary>
    Burstgpt,

    /// <summary>Vidur / Splitwise CSV: <c>arrived_at</c> (s), <c>num_prefill_tokens</c>, <c>num_decode_tokens</c>.</summary>
    Vidur,

    /// <summary>Lengths only: <c>num_prefill_tokens</c>, <c>num_decode_tokens</c>; arrivals come from <c>arrival</c>.</summary>
    Lengths,
}

public enum MalformedLines
{
    /// <summary>Stop at the first malformed line with its file and line number.</summary>
    Fail,

    /// <summary>Skip malformed lines and report how many were skipped.</summary>
    Skip,
}

/// <summary>
/// Requests read from a trace file. Arrival times are taken relative to the first request
/// kept; <see cref="RateScale"/> compresses them (2 = twice the arrival rate). The window
/// [start_s, start_s + duration_s) and <see cref="MaxRequests"/> then select requests.
/// </summary>
/// <param name="Path">Trace file, relative to the experiment file.</param>
/// <param name="Arrival">Arrival process; required for the <c>lengths</c> format, not allowed otherwise.</param>
/// <param name="MaxRequestTokens">Leave out requests whose prompt + output exceeds this many tokens (counted as dropped_too_long), for example so that every request's KV fits one GPU of a large model.</param>
/// <param name="ClipToContext">Clip prompt and output so that prompt + output fits the model's max_position_tokens.</param>
public sealed record TraceWorkload(
    TraceFormat Format,
    [FilePath] string Path,
    ArrivalProcess? Arrival = null,
    [Range(1e-6, 1e6)] double RateScale = 1.0,
    [Range(0.0, 1e9)] double StartS = 0,
    [Range(0.0, 1e9, MinimumIsExclusive = true)] double? DurationS = null,
    [Range(1, 100_000_000)] int? MaxRequests = null,
    bool ClipToContext = false,
    [Range(2, 100_000_000)] int? MaxRequestTokens = null,
    MalformedLines OnMalformed = MalformedLines.Fail) : WorkloadConfig, IValidatedConfig
{
    public IEnumerable<(string Field, string Problem)> Validate()
    {
        if (Format == TraceFormat.Lengths && Arrival is null)
            yield return ("arrival", "the lengths format has no timestamps: give an arrival process (poisson, gamma or burst)");
        if (Format != TraceFormat.Lengths && Arrival is not null)
            yield return ("arrival", $"the {Format.ToString().ToLowerInvariant()} format has its own timestamps; remove 'arrival' (use rate_scale to change the rate)");
    }
}
