using Policies.Core;

namespace Policies.Tests;

/// <summary>What a simulator or runner does with a batch, for policy tests: advance every entry, then complete.</summary>
internal static class Driver
{
    public static void Execute(IBatchPolicy policy, ForwardBatch batch)
    {
        foreach (var entry in batch.Entries) entry.Request.Advance(entry.NewTokens);
        policy.Complete(batch);
    }
}
