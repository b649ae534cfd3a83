namespace Simulator.Fabric;

/// <summary>
/// One direction of one physical link (a GPU's PCIe host-to-device lanes, its NVLink port,
/// host memory). Concurrent transfers share its bandwidth (see <see cref="TransferFabric"/>).
/// </summary>
public sealed class Link(string name, string kind, double bytesPerNs)
{
    public string Name { get; } = name;

    /// <summary>Link class for summaries: pcie_h2d, pcie_d2h, nvlink, host_memory.</summary>
    public string Kind { get; } = kind;

    public double BytesPerNs { get; } = bytesPerNs;

    /// <summary>Bytes that have crossed the link so far.</summary>
    public double BytesCarried { get; internal set; }

    /// <summary>Counts bytes that crossed the link outside the fabric (RealRunner's measured copies).</summary>
    public void Carry(double bytes) => BytesCarried += bytes;

    internal double Spare;
    internal int Unfixed;
}

/// <summary>The links a transfer crosses and its fixed start-up latency.</summary>
public sealed record TransferPath(IReadOnlyList<Link> Links, long LatencyNs)
{
    private readonly Link[] links = [.. Links];

    /// <summary>The links crossed, copied once to an array (also by <c>with</c>): the fabric walks them at every start and end of a flow.</summary>
    public IReadOnlyList<Link> Links
    {
        get => links;
        init => links = [.. value];
    }

    internal Link[] LinkArray => links;
}

/// <summary>One of the transfers a shipment starts together (<see cref="TransferFabric.Transfer(IReadOnlyList{TransferPart})"/>).</summary>
public readonly record struct TransferPart(long Bytes, TransferPath Path);
