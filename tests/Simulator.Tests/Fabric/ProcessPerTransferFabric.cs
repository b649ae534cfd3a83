using Simulator.Engine;
using Simulator.Fabric;

namespace Simulator.Tests.Fabric;

/// <summary>
/// The reference for <see cref="TransferFabric"/>'s shipments: the fabric as it was before them, one process per transfer (wait the
/// path's latency, then flow), rates recomputed max-min fairly at every start and end, and a new end timeout at every recomputation
/// (stale ones fire and are ignored). A shipment of several parts is the <see cref="Simulation.AllOf(IReadOnlyList{SimEvent})"/> of
/// its parts. Kept plain on purpose: progressive filling without the fast path.
/// </summary>
internal sealed class ProcessPerTransferFabric(Simulation sim)
{
    private sealed class Flow(Link[] links, double bytes, SimEvent done)
    {
        public Link[] Links { get; } = links;
        public double Remaining = bytes;
        public double Rate;
        public bool Fixed;
        public SimEvent Done { get; } = done;
    }

    private readonly List<Flow> flows = [];
    private long lastUpdateNs;
    private SimEvent? nextEnd;

    public int ActiveTransfers => flows.Count;

    public SimEvent Ship(IReadOnlyList<TransferPart> parts)
    {
        if (parts.Count == 1) return Transfer(parts[0].Bytes, parts[0].Path);
        var landed = new List<SimEvent>();
        foreach (var part in parts) landed.Add(Transfer(part.Bytes, part.Path));
        return sim.AllOf(landed);
    }

    public SimEvent Transfer(long bytes, TransferPath path)
    {
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
        flows.Add(new Flow([.. path.Links], bytes, done));
        Reschedule();
    }

    private void Advance()
    {
        var dt = sim.Now - lastUpdateNs;
        lastUpdateNs = sim.Now;
        if (dt == 0) return;
        foreach (var flow in flows)
        {
            var moved = Math.Min(flow.Remaining, flow.Rate * dt);
            flow.Remaining -= moved;
            foreach (var link in flow.Links) link.BytesCarried += moved;
        }
    }

    private void Reschedule()
    {
        for (var i = flows.Count - 1; i >= 0; i--)
        {
            if (flows[i].Remaining > 0.5) continue;
            var flow = flows[i];
            foreach (var link in flow.Links) link.BytesCarried += flow.Remaining;
            flows.RemoveAt(i);
            flow.Done.Succeed();
        }
        if (flows.Count == 0) return;
        AssignMaxMinRates();
        var nextNs = long.MaxValue;
        foreach (var flow in flows) nextNs = Math.Min(nextNs, (long)Math.Ceiling(flow.Remaining / flow.Rate));
        var end = sim.Timeout(Math.Max(1, nextNs));
        nextEnd = end;
        end.AddCallback(fired =>
        {
            if (!ReferenceEquals(fired, nextEnd)) return;
            Advance();
            Reschedule();
        });
    }

    private void AssignMaxMinRates()
    {
        var touched = new List<Link>();
        foreach (var flow in flows)
        {
            flow.Fixed = false;
            foreach (var link in flow.Links)
            {
                if (link.Unfixed == 0)
                {
                    link.Spare = link.BytesPerNs;
                    touched.Add(link);
                }
                link.Unfixed++;
            }
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
                if (flow.Fixed || !flow.Links.Contains(bottleneck)) continue;
                flow.Fixed = true;
                flow.Rate = share;
                left--;
                foreach (var link in flow.Links)
                {
                    link.Spare -= share;
                    link.Unfixed--;
                }
            }
        }
    }
}
