namespace Simulator.Metrics;

/// <summary>
/// The two parts of a request's time per output token (DESIGN section 6) that batch-level scheduling pulls apart:
/// the pool wait, from its first token (the end of prefill) to its second (the first decode step's), which holds
/// the KV handoff, the wait in the host pool (disaggregated policies) or behind other passes (colocated ones) and the
/// first decode pass; and the inter-token latency during decoding, (finish - second token) / (output tokens - 2).
/// TPOT = (pool wait + ITL x (n - 2)) / (n - 1) for a request of n output tokens.
/// </summary>
public static class RequestLatency
{
    /// <summary>
    /// Pool wait and decode inter-token latency of a finished request, in seconds; NaN where undefined
    /// (one output token: no pool wait; two: no ITL; unfinished, or its second token came in a standing batch's bulk).
    /// </summary>
    public static (double PoolWaitS, double ItlS) Decoding(MetricsRecorder metrics, int id, int outputTokens)
    {
        var first = metrics.FirstTokenNs[id];
        var second = metrics.SecondTokenNs[id];
        var finish = metrics.FinishNs[id];
        if (finish < 0 || second < 0 || outputTokens < 2) return (double.NaN, double.NaN);
        var poolWait = Specs.Units.Seconds(second - first);
        var itl = outputTokens > 2 ? Specs.Units.Seconds(finish - second) / (outputTokens - 2) : double.NaN;
        return (poolWait, itl);
    }
}
