using System.ComponentModel.DataAnnotations;
using Simulator.Config;

namespace Simulator.Tracing;

/// <summary>
/// <c>metrics.trace</c>: write trace.json, the run's timeline in the Chrome trace-event format (Perfetto, chrome://tracing).
/// A time window and an event cap keep a big run's file bounded; what they leave out is counted in the file's
/// <c>otherData</c> and in the run's output.
/// </summary>
/// <param name="FromS">Simulated time the window opens at: passes, transfers and requests that end before it are left out.</param>
/// <param name="ToS">Simulated time the window closes at (null: the end of the run): what starts at or after it is left out.</param>
/// <param name="MaxEvents">Most trace events written (metadata naming the tracks not counted). The file then covers the run up
/// to the simulated time the cap was reached, completely; everything that ends later is left out, so a request is in it whole or not at all.</param>
public sealed record TraceConfig(
    [Range(0.0, Specs.Units.MaxTimeS)] double FromS = 0,
    [Range(0.0, Specs.Units.MaxTimeS)] double? ToS = null,
    [Range(1, 100_000_000)] int MaxEvents = 500_000) : IValidatedConfig
{
    public IEnumerable<(string Field, string Problem)> Validate()
    {
        if (ToS is { } to && to <= FromS) yield return ("to_s", $"the window closes ({to} s) at or before it opens (from_s {FromS} s)");
    }
}
