namespace Simulator.Workload;

/// <summary>One request of a workload: when it arrives and how long it is.</summary>
public readonly record struct RequestSpec(int Id, long ArrivalNs, int PromptTokens, int OutputTokens);
