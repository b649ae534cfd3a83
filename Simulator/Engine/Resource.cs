namespace Simulator.Engine;

/// <summary>
/// A resource with <see cref="Capacity"/> identical slots, granted first-come first-served.
/// Invariant: <see cref="InUse"/> never exceeds <see cref="Capacity"/>. A request is granted
/// when its event succeeds; disposing it releases the slot (or withdraws a request still
/// waiting), so <c>using var req = resource.Request(); yield return req;</c> holds the slot
/// for the rest of the block.
/// </summary>
public sealed class Resource
{
    private readonly LinkedList<ResourceRequest> waiting = new();

    public Resource(Simulation simulation, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Simulation = simulation;
        Capacity = capacity;
    }

    public Simulation Simulation { get; }

    public int Capacity { get; }

    public int InUse { get; private set; }

    public int QueueLength => waiting.Count;

    public ResourceRequest Request()
    {
        var request = new ResourceRequest(this);
        if (InUse < Capacity) Grant(request);
        else request.Node = waiting.AddLast(request);
        return request;
    }

    internal void Release(ResourceRequest request)
    {
        if (request.Node is not null)
        {
            waiting.Remove(request.Node);
            request.Node = null;
            return;
        }
        if (!request.IsGranted) return;
        request.IsGranted = false;
        InUse--;
        while (InUse < Capacity && waiting.First is { } head)
        {
            waiting.RemoveFirst();
            head.Value.Node = null;
            Grant(head.Value);
        }
    }

    private void Grant(ResourceRequest request)
    {
        InUse++;
        request.IsGranted = true;
        request.Succeed();
    }
}

/// <summary>A request for one slot of a <see cref="Resource"/>; dispose to release.</summary>
public sealed class ResourceRequest : SimEvent, IDisposable
{
    private readonly Resource resource;
    private bool disposed;

    internal ResourceRequest(Resource resource) : base(resource.Simulation) => this.resource = resource;

    internal LinkedListNode<ResourceRequest>? Node { get; set; }

    /// <summary>True while this request holds a slot.</summary>
    public bool IsGranted { get; internal set; }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        resource.Release(this);
    }
}
