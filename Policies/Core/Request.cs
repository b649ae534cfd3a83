namespace Policies.Core;

public enum RequestPhase
{
    /// <summary>Queued; holds no KV blocks (new, or preempted and waiting to be recomputed).</summary>
    Waiting,

    /// <summary>Admitted to a GPU: holds KV blocks and takes part in forward passes.</summary>
    Running,

    /// <summary>Produced all its output tokens; holds nothing.</summary>
    Finished,
}

/// <summary>
/// One request's serving state. Token accounting: the request knows
/// <see cref="TotalTokens"/> tokens (prompt plus generated); the KV of
/// <see cref="ComputedTokens"/> of them exists on its GPU. A forward pass over the
/// <see cref="PendingTokens"/> uncomputed tokens emits one new token: the prefill emits the
/// first output token, and each decode step then computes one token's KV and emits the next.
/// Output of N tokens therefore takes one prefill and N - 1 decode steps.
/// Invariants: 0 &lt;= ComputedTokens &lt; TotalTokens until finished; GeneratedTokens &lt;= OutputTokens.
/// </summary>
public sealed class Request
{
    public Request(int id, int promptTokens, int outputTokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(promptTokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputTokens, 1);
        Id = id;
        PromptTokens = promptTokens;
        OutputTokens = outputTokens;
    }

    /// <summary>
    /// A request whose prompt was prefilled elsewhere: its prompt's KV exists (not on this GPU) and
    /// its first token is out. For drivers that start from prefilled requests, and benchmarks.
    /// </summary>
    public static Request Prefilled(int id, int promptTokens, int outputTokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(outputTokens, 2);
        return new Request(id, promptTokens, outputTokens) { ComputedTokens = promptTokens, GeneratedTokens = 1 };
    }

    public int Id { get; }

    public int PromptTokens { get; }

    /// <summary>Tokens this request will generate in total (known to the simulator, not to a real server).</summary>
    public int OutputTokens { get; }

    public int GeneratedTokens { get; private set; }

    public int ComputedTokens { get; private set; }

    public RequestPhase Phase { get; internal set; }

    /// <summary>How often the request lost its KV and had to be recomputed.</summary>
    public int Preemptions { get; private set; }

    public int TotalTokens => PromptTokens + GeneratedTokens;

    public int PendingTokens => TotalTokens - ComputedTokens;

    /// <summary>True while the next pass is (part of) a prefill rather than a one-token decode step.</summary>
    public bool InPrefill => ComputedTokens == 0 || PendingTokens > 1;

    /// <summary>Largest KV footprint the request can reach: every token except the last generated one.</summary>
    public int MaxKvTokens => PromptTokens + OutputTokens - 1;

    /// <summary>
    /// Records that a forward pass computed <paramref name="tokens"/> more tokens' KV.
    /// Returns true when the pass emitted a new token (it reached the end of the known tokens).
    /// </summary>
    public bool Advance(int tokens)
    {
        if (Phase != RequestPhase.Running) throw new InvalidOperationException($"Request {Id} is {Phase}, not running.");
        if (tokens < 1 || tokens > PendingTokens)
            throw new ArgumentOutOfRangeException(nameof(tokens), tokens, $"Request {Id} has {PendingTokens} pending tokens.");
        ComputedTokens += tokens;
        if (ComputedTokens < TotalTokens) return false;
        GeneratedTokens++;
        if (GeneratedTokens == OutputTokens) Phase = RequestPhase.Finished;
        return true;
    }

    /// <summary>
    /// Records <paramref name="passes"/> one-token decode passes at once (each computes the pending
    /// token's KV and emits the next): for a driver that ran them as a standing batch without touching
    /// the request. They must not finish it (the pass that does goes through <see cref="Advance"/>).
    /// </summary>
    public void AdvanceDecodes(int passes)
    {
        if (Phase != RequestPhase.Running || PendingTokens != 1)
            throw new InvalidOperationException($"Request {Id} is {Phase} with {PendingTokens} pending tokens, not a running decode.");
        if (passes < 0 || GeneratedTokens + passes >= OutputTokens)
            throw new ArgumentOutOfRangeException(nameof(passes), passes, $"Request {Id} has {OutputTokens - GeneratedTokens} tokens to go; bulk decode passes must leave its last to a single pass.");
        ComputedTokens += passes;
        GeneratedTokens += passes;
    }

    /// <summary>Its KV moves to host memory (preemption by swap); it keeps its computed tokens.</summary>
    internal void SwapOut()
    {
        Preemptions++;
        Phase = RequestPhase.Waiting;
    }

    /// <summary>Drops the request's KV (preemption by recompute); its generated tokens are kept.</summary>
    internal void ResetForRecompute()
    {
        ComputedTokens = 0;
        Preemptions++;
        Phase = RequestPhase.Waiting;
    }
}
