using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Policies.DistServe;

/// <param name="PrefillTokenBudget">Prompt tokens one prefill pass may batch.</param>
/// <param name="ReserveFullOutput">On a decode GPU, reserve KV for a request's whole output when pulling it, so decodes never preempt.</param>
public sealed record DistServeOptions(
    [Description("most requests running at once on a GPU")][Range(1, 1_000_000)] int MaxNumSeqs = 256,
    [Description("prompt tokens per prefill pass")][Range(1, 10_000_000)] int PrefillTokenBudget = 8192,
    [Description("reserve KV for the whole output when pulling")] bool ReserveFullOutput = true);
