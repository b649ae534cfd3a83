using Policies.Core;
using Policies.Memory;
using Policies.Vllm;

namespace Policies.Tests.Core;

public sealed class RequestTests
{
    private static Request Running(int prompt, int output)
    {
        // Admit through a policy so the request is in the Running phase, as a driver would see it.
        var policy = new VllmPolicy(new VllmOptions(), new PolicyContext(new KvBlockManager(1000, 16)));
        var request = new Request(0, prompt, output);
        policy.Enqueue(request);
        policy.Schedule(0);
        return request;
    }

    [Fact]
    public void Output_Of_N_Tokens_Should_Take_One_Prefill_And_N_Minus_1_Decodes()
    {
        var request = Running(prompt: 100, output: 4);

        Assert.True(request.Advance(100));
        Assert.Equal(1, request.GeneratedTokens);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(1, request.PendingTokens);
            Assert.True(request.Advance(1));
        }

        Assert.Equal(RequestPhase.Finished, request.Phase);
        Assert.Equal(4, request.GeneratedTokens);
        Assert.Equal(103, request.ComputedTokens);
        Assert.Equal(request.MaxKvTokens, request.ComputedTokens);
    }

    [Fact]
    public void A_Prefill_Chunk_Should_Emit_No_Token_Until_The_Prompt_Is_Done()
    {
        var request = Running(prompt: 100, output: 2);
        Assert.False(request.Advance(60));
        Assert.True(request.InPrefill);
        Assert.True(request.Advance(40));
        Assert.False(request.InPrefill);
    }

    [Fact]
    public void Advancing_Past_The_Pending_Tokens_Should_Throw()
    {
        var request = Running(prompt: 10, output: 2);
        Assert.Throws<ArgumentOutOfRangeException>(() => request.Advance(11));
    }
}
