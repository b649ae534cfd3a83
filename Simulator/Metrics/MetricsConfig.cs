namespace Simulator.Metrics;

/// <param name="IterationRecords">Keep every forward pass's record for iterations.csv (and the figures drawn from it). Off, a run keeps
/// only the aggregates its summary needs: a fleet-sized run's memory then no longer grows by about 100 bytes per pass.</param>
public sealed record MetricsConfig(bool IterationRecords = true);
