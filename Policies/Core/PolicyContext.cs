using Policies.Memory;

namespace Policies.Core;

/// <summary>What a policy is given about the GPU it schedules: its KV block manager.</summary>
public sealed record PolicyContext(KvBlockManager Blocks);
