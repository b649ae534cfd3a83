namespace Simulator.Tracing;

/// <summary>One phase of a request's life, as the trace shows it.</summary>
public readonly record struct RequestPhase(string Name, long StartNs, long EndNs);

/// <summary>
/// The times a request's phases are drawn from: arrival, its first prefill pass, its first token, the KV pull that
/// brought it to a decode GPU (disaggregated deployments; -1 when none) and its last token.
/// </summary>
public readonly record struct RequestLife(int Id, long ArrivalNs, long PrefillStartNs, long FirstTokenNs, long PullStartNs, long PullEndNs,
    bool ViaHostPool, long FinishNs)
{
    /// <summary>
    /// Consecutive phases from arrival to the last token, zero-length ones left out: queued, prefill (first prefill pass to first
    /// token, chunks and all), then on a disaggregated deployment pool wait (handoff wait when the KV stayed on the prefill GPU)
    /// and KV pull (both hops of a staged pull), and decode (to the last token).
    /// </summary>
    public IEnumerable<RequestPhase> Phases()
    {
        var prefillStart = PrefillStartNs >= 0 ? PrefillStartNs : FirstTokenNs;
        var decodeStart = FirstTokenNs;
        var phases = new List<RequestPhase>(5)
        {
            new("queued", ArrivalNs, prefillStart),
            new("prefill", prefillStart, FirstTokenNs),
        };
        if (PullStartNs >= 0)
        {
            phases.Add(new(ViaHostPool ? "pool wait" : "handoff wait", FirstTokenNs, PullStartNs));
            phases.Add(new("KV pull", PullStartNs, PullEndNs));
            decodeStart = PullEndNs;
        }
        phases.Add(new("decode", decodeStart, FinishNs));
        return phases.Where(p => p.EndNs > p.StartNs);
    }
}
