using Policies.Core;
using Policies.DistServe;
using Policies.FastGen;
using Policies.Memory;
using Policies.Orca;
using Policies.Sarathi;
using Policies.Vllm;

namespace Policies.Tests.Core;

/// <summary>
/// The first-come first-served policies' word on repeats (<see cref="IRepeatableSchedule"/>), checked against the decisions they
/// make when asked every pass: two identical decode GPUs receive the same prefilled requests and KV arrivals; one is asked
/// <see cref="IBatchPolicy.Schedule"/> every pass, the other is driven as the simulator's standing batches drive it (its vouched
/// batch repeated without asking it, the survivors kept after members finish, external changes taken through
/// <see cref="IRepeatableSchedule.PullsBesideRepeat"/>). Every pass, both must run the same requests, pull the same ones and hold
/// the same blocks.
/// </summary>
public sealed class FcfsRepeatTests
{
    public static TheoryData<string> Policies => ["vllm", "vllm-watermark-0", "vllm-chunked", "orca", "distserve", "distserve-growing", "fastgen", "fastgen-small-budget", "sarathi"];

    private static IBatchPolicy Create(string name, KvBlockManager blocks)
    {
        var context = new PolicyContext(blocks, GpuRole.Decode);
        return name switch
        {
            "vllm" => new VllmPolicy(new VllmOptions(WatermarkFraction: 0.05), context),
            "vllm-watermark-0" => new VllmPolicy(new VllmOptions(WatermarkFraction: 0), context),
            "vllm-chunked" => new VllmPolicy(new VllmOptions(ChunkedPrefill: true, MaxNumBatchedTokens: 512, WatermarkFraction: 0.02), context),
            "orca" => new OrcaPolicy(new OrcaOptions(MaxBatchSize: 12, MaxSequenceTokens: 64), context),
            "distserve" => new DistServePolicy(new DistServeOptions(MaxNumSeqs: 16), context),
            "distserve-growing" => new DistServePolicy(new DistServeOptions(MaxNumSeqs: 16, ReserveFullOutput: false), context),
            "fastgen" => new FastGenPolicy(new FastGenOptions(TokenBudget: 256, WatermarkFraction: 0.05), context),
            // A budget under the running count: a decision leaves running requests out of its pass.
            "fastgen-small-budget" => new FastGenPolicy(new FastGenOptions(TokenBudget: 6, WatermarkFraction: 0.05), context),
            "sarathi" => new SarathiPolicy(new SarathiOptions(TokenBudget: 256, WatermarkFraction: 0.05), context),
            _ => throw new ArgumentException(name),
        };
    }

    /// <summary>One of the two GPUs: its policy, blocks and requests by id.</summary>
    private sealed class Gpu(string policy, int blocks)
    {
        public KvBlockManager Blocks { get; } = new(blocks, 16, trackIds: false);
        public IBatchPolicy Policy { get; private set; } = null!;
        public Dictionary<int, Request> Requests { get; } = [];

        public Gpu Init()
        {
            Policy = Create(policy, Blocks);
            return this;
        }
    }

    [Theory]
    [MemberData(nameof(Policies))]
    public void A_Policy_Driven_By_Its_Word_On_Repeats_Should_Run_The_Passes_It_Decides_When_Asked_Every_Pass(string name)
    {
        int repeated = 0, pullsBeside = 0, joinsBeside = 0, afterFinishes = 0, afterTouches = 0;
        for (var seed = 1; seed <= 40; seed++)
        {
            var random = new Random(seed);
            var blocks = random.Next(40, 160);
            var reference = new Gpu(name, blocks).Init();
            var driven = new Gpu(name, blocks).Init();
            var arrivals = new List<(int Id, int Due)>();
            var nextId = 0;
            // The driven GPU's vouched batch (the survivors of its last pass), if any.
            List<Request>? repeat = null;
            var touched = false;
            for (var step = 0; step < 400 && (nextId < 30 || reference.Policy.RunningCount + reference.Policy.WaitingCount + reference.Policy.ArrivingCount > 0); step++)
            {
                // Given two GPUs, one asked every pass, the other repeating what its policy vouched for where it can,
                var expected = reference.Policy.Schedule(0);
                var (entries, pulls, asked) = Drive(driven, ref repeat, touched, ref pullsBeside, ref joinsBeside);
                touched = false;

                // Then both run the same requests, pull the same ones and hold the same blocks
                var context = $"{name}, seed {seed}, step {step}";
                Assert.True(expected.Entries.Select(e => (e.Request.Id, e.NewTokens)).SequenceEqual(entries.Select(e => (e.Request.Id, e.Tokens))),
                    $"{context}: ran [{string.Join(",", entries.Select(e => e.Request.Id))}], asked every pass [{string.Join(",", expected.Entries.Select(e => e.Request.Id))}]");
                Assert.Equal(expected.Pulls.Select(p => p.Request.Id), pulls);
                if (!asked)
                {
                    repeated++;
                    Assert.Empty(expected.Preempted);
                }
                Assert.Equal(reference.Blocks.FreeBlocks, driven.Blocks.FreeBlocks);
                foreach (var pull in expected.Pulls) arrivals.Add((pull.Request.Id, step + random.Next(0, 3)));

                // while the same prefilled requests and KV arrive at both during the pass
                if (nextId < 30 && random.NextDouble() < 0.35)
                {
                    var (prompt, output) = (random.Next(8, 400), random.Next(2, 60));
                    foreach (var gpu in new[] { reference, driven })
                    {
                        var request = Request.Prefilled(nextId, prompt, output);
                        gpu.Requests[nextId] = request;
                        gpu.Policy.EnqueuePrefilled(request);
                    }
                    nextId++;
                    touched = true;
                }
                foreach (var (id, _) in arrivals.Where(a => a.Due <= step).ToList())
                {
                    reference.Policy.KvArrived(reference.Requests[id]);
                    driven.Policy.KvArrived(driven.Requests[id]);
                    touched = true;
                }
                arrivals.RemoveAll(a => a.Due <= step);

                foreach (var entry in expected.Entries) entry.Request.Advance(entry.NewTokens);
                reference.Policy.Complete(expected);
                var formed = new ForwardBatch();
                foreach (var (request, tokens) in entries) formed.Add(request, tokens);
                foreach (var entry in formed.Entries) entry.Request.Advance(entry.NewTokens);
                // A standing batch's pass is completed as the policy's batch when it decided it, or when members finished in it; the
                // policy is then asked for its word, also when something reached it during the pass (these policies take that beside).
                var finished = formed.Entries.Any(e => e.Request.Phase == RequestPhase.Finished);
                if (asked || finished)
                {
                    var completed = asked ? lastAsked! : formed;
                    driven.Policy.Complete(completed);
                    var repeats = (IRepeatableSchedule)driven.Policy;
                    Assert.True(repeats.TakesChangesBeside);
                    var word = repeats.RepeatablePasses(completed);
                    repeat = word > 0 ? formed.Entries.Where(e => e.Request.Phase != RequestPhase.Finished).Select(e => e.Request).ToList() : null;
                    if (word > 0 && finished) afterFinishes++;
                    if (word > 0 && touched) afterTouches++;
                }
                Assert.Equal(reference.Blocks.FreeBlocks, driven.Blocks.FreeBlocks);
            }
        }
        // The comparison is not vacuous: every way of repeating ran.
        Assert.True(repeated > 100, $"{name}: {repeated} passes repeated");
        Assert.True(afterFinishes > 0, $"{name}: no repeat vouched for after members finished");
        Assert.True(afterTouches > 0, $"{name}: no repeat vouched for after a pass during which something reached the policy");
        Assert.True(pullsBeside > 0 && joinsBeside > 0, $"{name}: {pullsBeside} pulls and {joinsBeside} joins beside a repeat");
    }

    private ForwardBatch? lastAsked;

    /// <summary>
    /// One pass of the driven GPU, as the standing batches drive it: the vouched batch again when nothing reached the policy (and
    /// its growth fits), the policy's decision beside it when something did, otherwise its decision. Returns the pass's entries,
    /// the ids it pulled, and whether the policy was asked for the batch.
    /// </summary>
    private (List<(Request Request, int Tokens)> Entries, List<int> Pulls, bool Asked) Drive(Gpu gpu, ref List<Request>? repeat, bool touched,
        ref int pullsBeside, ref int joinsBeside)
    {
        if (repeat is { Count: > 0 })
        {
            var growth = repeat.Sum(r => gpu.Blocks.MissingBlocks(r, r.ComputedTokens + 1));
            if (growth <= gpu.Blocks.FreeBlocks)
            {
                var pulls = new List<int>();
                var free = gpu.Blocks.FreeBlocks;
                if (touched)
                {
                    var beside = ((IRepeatableSchedule)gpu.Policy).PullsBesideRepeat(0, growth);
                    if (beside is null) Assert.Equal(free, gpu.Blocks.FreeBlocks); // nothing changed
                    else
                    {
                        Assert.True(gpu.Blocks.FreeBlocks >= growth, "the pulls took the repeat's growth");
                        pulls.AddRange(beside.Pulls.Select(p => p.Request.Id));
                        if (pulls.Count > 0) pullsBeside++;
                        if (beside.Entries.Count > 0) joinsBeside++;
                        repeat = [.. repeat, .. beside.Entries.Select(e => e.Request)];
                    }
                    touched = beside is null;
                }
                if (!touched)
                {
                    foreach (var member in repeat) gpu.Blocks.Reserve(member, member.ComputedTokens + 1);
                    return (repeat.Select(r => (r, 1)).ToList(), pulls, false);
                }
            }
        }
        lastAsked = gpu.Policy.Schedule(0);
        return (lastAsked.Entries.Select(e => (e.Request, e.NewTokens)).ToList(), lastAsked.Pulls.Select(p => p.Request.Id).ToList(), true);
    }
}
