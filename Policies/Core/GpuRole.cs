namespace Policies.Core;

/// <summary>What a GPU does in a deployment (DistServe-style disaggregation or not).</summary>
public enum GpuRole
{
    /// <summary>Prefill and decode on the same GPU.</summary>
    Colocated,

    /// <summary>Prefill only: after its first token a request's KV is handed off.</summary>
    Prefill,

    /// <summary>Decode only: requests arrive prefilled, their KV elsewhere, and are pulled in.</summary>
    Decode,
}
