using Simulator.Engine;

namespace Simulator.Fabric;

/// <summary>
/// Moves bytes over links. A transfer of n bytes waits its path's latency, then flows; all
/// flowing transfers share link bandwidth max-min fairly (progressive filling: the most
/// contended link splits its bandwidth equally among its unfixed flows, those flows are fixed
/// at that rate, and the rest repeat on what is left). Rates are recomputed whenever a
/// transfer starts or ends, so a lone transfer takes latency + n / bandwidth exactly.
/// Chosen over FIFO per copy engine because concurrent copies on one link do share it on
/// real GPUs (nvbandwidth shows the split); copy-engine counts are not modelled.
/// </summary>
public sealed class TransferFabric(Simulation sim)
{
    private sealed class Flow(TransferPath path, double bytes, SimEvent done)
    {
        /// <summary>The path's links, copied to an array: the rates are recomputed over them at every start and end of a flow.</summary>
        public Link[] Links { get; } = [.. path.Links];
        public double Remaining = bytes;
        public double Rate;
        public bool Fixed;
        public SimEvent Done { get; } = done;
    }

    private readonly List<Flow> flows = [];
    private readonly List<Link> touched = [];
    private long lastUpdateNs;

    public int ActiveTransfers => flows.Count;

    /// <summary>Starts a transfer; the returned event succeeds when its last byte has arrived.</summary>
    public SimEvent Transfer(long bytes, TransferPath path)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        var done = sim.Event();
        sim.Process(Run(bytes, path, done));
        return done;
    }

    private IEnumerable<SimEvent> Run(long bytes, TransferPath path, SimEvent done)
    {
        if (path.LatencyNs > 0) yield return sim.Timeout(path.LatencyNs);
        if (bytes == 0 || path.Links.Count == 0)
        {
            done.Succeed();
            yield break;
        }
        Advance();
        flows.Add(new Flow(path, bytes, done));
        Reschedule();
    }

    /// <summary>Moves every flow forward to now at its current rate.</summary>
    private void Advance()
    {
        var dt = sim.Now - lastUpdateNs;
        lastUpdateNs = sim.Now;
        if (dt == 0) return;
        foreach (var flow in flows)
        {
            var moved = Math.Min(flow.Remaining, flow.Rate * dt);
            flow.Remaining -= moved;
            var links = flow.Links;
            for (var i = 0; i < links.Length; i++) links[i].BytesCarried += moved;
        }
    }

    private void Reschedule()
    {
        // Finish flows with (numerically) nothing left; a flow never finishes early by more than a byte.
        for (var i = flows.Count - 1; i >= 0; i--)
        {
            if (flows[i].Remaining > 0.5) continue;
            var flow = flows[i];
            var links = flow.Links;
            for (var l = 0; l < links.Length; l++) links[l].BytesCarried += flow.Remaining;
            flows.RemoveAt(i);
            flow.Done.Succeed();
        }
        if (flows.Count == 0) return;
        AssignMaxMinRates();
        var nextNs = long.MaxValue;
        foreach (var flow in flows) nextNs = Math.Min(nextNs, (long)Math.Ceiling(flow.Remaining / flow.Rate));
        // The next flow's end; a later reschedule replaces it (the replaced timeout still fires, and is ignored).
        nextEnd = sim.Timeout(Math.Max(1, nextNs));
        nextEnd.AddCallback(onNextEnd ??= NextEnd);
    }

    /// <summary>The timeout of the earliest flow end the rates give, set at every reschedule.</summary>
    private SimEvent? nextEnd;
    private Action<SimEvent>? onNextEnd;

    private void NextEnd(SimEvent fired)
    {
        if (!ReferenceEquals(fired, nextEnd)) return;
        Advance();
        Reschedule();
    }

    private void AssignMaxMinRates()
    {
        touched.Clear();
        var shared = false;
        foreach (var flow in flows)
        {
            flow.Fixed = false;
            var links = flow.Links;
            for (var i = 0; i < links.Length; i++)
            {
                var link = links[i];
                if (link.Unfixed == 0)
                {
                    link.Spare = link.BytesPerNs;
                    touched.Add(link);
                }
                else shared = true;
                link.Unfixed++;
            }
        }
        if (!shared)
        {
            // No link carries two flows (the usual case: one request's KV shards, each on its own GPUs' links): progressive filling
            // gives each flow its slowest link's bandwidth, the same double, without the rounds.
            foreach (var flow in flows)
            {
                var links = flow.Links;
                var rate = double.MaxValue;
                for (var i = 0; i < links.Length; i++)
                {
                    rate = Math.Min(rate, links[i].BytesPerNs);
                    links[i].Unfixed = 0;
                }
                flow.Rate = Math.Max(0, rate);
                flow.Fixed = true;
            }
            return;
        }
        var left = flows.Count;
        while (left > 0)
        {
            Link? bottleneck = null;
            foreach (var link in touched)
                if (link.Unfixed > 0 && (bottleneck is null || link.Spare / link.Unfixed < bottleneck.Spare / bottleneck.Unfixed))
                    bottleneck = link;
            var share = Math.Max(0, bottleneck!.Spare / bottleneck.Unfixed);
            foreach (var flow in flows)
            {
                if (flow.Fixed || !Crosses(flow.Links, bottleneck)) continue;
                flow.Fixed = true;
                flow.Rate = share;
                left--;
                var links = flow.Links;
                for (var i = 0; i < links.Length; i++)
                {
                    links[i].Spare -= share;
                    links[i].Unfixed--;
                }
            }
        }
    }

    /// <summary>Whether a path crosses the link, by reference (LINQ's Contains went through the list's interface for every flow and every bottleneck).</summary>
    private static bool Crosses(Link[] links, Link link)
    {
        for (var i = 0; i < links.Length; i++)
            if (ReferenceEquals(links[i], link)) return true;
        return false;
    }
}
