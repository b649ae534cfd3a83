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
    private sealed class Flow(TransferPath path, double bytes, Shipment shipment)
    {
        /// <summary>The path's links: the rates are recomputed over them at every start and end of a flow.</summary>
        public Link[] Links { get; } = path.LinkArray;
        public double Remaining = bytes;
        public double Rate;
        public bool Fixed;
        public Shipment Shipment { get; } = shipment;
    }

    /// <summary>
    /// One call's transfers (a request's KV shards, or one copy), started together; <see cref="Done"/> succeeds when the last has landed.
    /// Its steps are events in the same places of the queue as a process per part waiting out its latency, then flowing, and an
    /// <see cref="Simulation.AllOf(IReadOnlyList{SimEvent})"/> of the parts' events: the start at the call (urgent), each run of parts
    /// with one latency at its end, the last part's landing, then <see cref="Done"/>. The part processes' own events, the parts' landings
    /// before the last, and the rates and end timeout of every part but a run's last (at one instant, before any other event could
    /// read them) did nothing and are not made.
    /// </summary>
    private sealed class Shipment(TransferFabric fabric, IReadOnlyList<TransferPart> parts, SimEvent done)
    {
        public IReadOnlyList<TransferPart> Parts { get; } = parts;
        public SimEvent Done { get; } = done;
        public int Left = parts.Count;

        public void Start(SimEvent _) => fabric.Begin(this);

        public void Landed(SimEvent _) => Done.Succeed();
    }

    private readonly List<Flow> flows = [];
    private readonly List<Link> touched = [];
    private long lastUpdateNs;

    public int ActiveTransfers => flows.Count;

    /// <summary>Starts a transfer; the returned event succeeds when its last byte has arrived.</summary>
    public SimEvent Transfer(long bytes, TransferPath path) => Transfer([new TransferPart(bytes, path)]);

    /// <summary>
    /// Starts transfers together (a request's KV shards); the returned event succeeds when the last has landed. Each part is a transfer
    /// of its own (its latency, then its bytes sharing the links), and the simulation is the one given by the <see cref="Simulation.AllOf(IReadOnlyList{SimEvent})"/>
    /// of a <see cref="Transfer(long, TransferPath)"/> per part (same events in the same order), with fewer events.
    /// </summary>
    public SimEvent Transfer(IReadOnlyList<TransferPart> parts)
    {
        if (parts.Count == 0) throw new ArgumentException("A shipment needs at least one transfer.", nameof(parts));
        foreach (var part in parts) ArgumentOutOfRangeException.ThrowIfNegative(part.Bytes, nameof(parts));
        var shipment = new Shipment(this, parts, sim.Event());
        var start = sim.Event();
        start.AddCallback(shipment.Start);
        start.Succeed(EventPriority.Urgent);
        return shipment.Done;
    }

    /// <summary>The shipment's start: each run of parts with one latency waits it out together, and parts without latency flow now.</summary>
    private void Begin(Shipment shipment)
    {
        var parts = shipment.Parts;
        var i = 0;
        while (i < parts.Count)
        {
            var latency = parts[i].Path.LatencyNs;
            var end = i + 1;
            if (latency > 0)
            {
                // A part's timeout is all its start does, so a run's timeouts would sit side by side in the queue: one stands for them.
                while (end < parts.Count && parts[end].Path.LatencyNs == latency) end++;
                var (runFirst, runEnd) = (i, end);
                sim.Timeout(latency).AddCallback(_ => StartFlows(shipment, runFirst, runEnd));
                i = end;
                continue;
            }
            StartFlows(shipment, i, end);
            i = end;
        }
    }

    /// <summary>
    /// Parts [first, end) start flowing now. The rates are recomputed once, after the last: those of the parts before it held for no
    /// time and no event read them (a part with nothing to move lands at once, after the flows before it were rescheduled, as it would).
    /// </summary>
    private void StartFlows(Shipment shipment, int first, int end)
    {
        var parts = shipment.Parts;
        var added = false;
        for (var i = first; i < end; i++)
        {
            var part = parts[i];
            if (part.Bytes == 0 || part.Path.LinkArray.Length == 0)
            {
                if (added) Reschedule();
                added = false;
                PartLanded(shipment);
                continue;
            }
            // The flows move forward to now before one is added (at one instant only the first call moves them); a part with nothing to move does not.
            if (!added) Advance();
            flows.Add(new Flow(part.Path, part.Bytes, shipment));
            added = true;
        }
        if (added) Reschedule();
    }

    /// <summary>
    /// A part has landed: the shipment's last succeeds its event (a lone part's at once, as its own event would; several parts' after an
    /// event standing for the last part's, where the parts' condition would have succeeded).
    /// </summary>
    private void PartLanded(Shipment shipment)
    {
        if (--shipment.Left > 0) return;
        if (shipment.Parts.Count == 1)
        {
            shipment.Done.Succeed();
            return;
        }
        var landed = sim.Event();
        landed.AddCallback(shipment.Landed);
        landed.Succeed();
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
            PartLanded(flow.Shipment);
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
