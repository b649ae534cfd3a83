namespace Simulator.Metrics;

/// <param name="IterationRecords">Keep every forward pass's record for iterations.csv (and the figures drawn from it). Off, a run keeps
/// only the aggregates its summary needs: a fleet-sized run's memory then no longer grows by about 100 bytes per pass.</param>
/// <param name="Trace">Write trace.json, the run's timeline in the Chrome trace-event format (null: no trace); see <see cref="Tracing.TraceConfig"/>.</param>
public sealed record MetricsConfig(bool IterationRecords = true, Tracing.TraceConfig? Trace = null);
