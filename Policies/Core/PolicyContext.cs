using Policies.Memory;

namespace Policies.Core;

/// <summary>What a policy is given about the GPU it schedules: its KV blocks and its role.</summary>
public sealed record PolicyContext(KvBlockManager Blocks, GpuRole Role = GpuRole.Colocated);
