using Simulator.Engine;

namespace Simulator.Tests.Engine;

public sealed class SimulationTests
{
    [Fact]
    public void Comparer_Should_Order_By_Time_Then_Priority_Then_Sequence()
    {
        var keys = new[]
        {
            new EventKey(5, 0, 3), new EventKey(5, -1, 9), new EventKey(1, 1, 7),
            new EventKey(5, 0, 2), new EventKey(1, 1, 4),
        };
        var sorted = keys.Order(EventKeyComparer.Instance).ToArray();
        Assert.Equal(
            [new EventKey(1, 1, 4), new EventKey(1, 1, 7), new EventKey(5, -1, 9), new EventKey(5, 0, 2), new EventKey(5, 0, 3)],
            sorted);
    }

    [Fact]
    public void Events_At_The_Same_Time_Should_Be_Processed_In_Insertion_Order()
    {
        // Given 1,000 timeouts that all end at t = 10 (far more than a heap keeps in order by luck)
        var sim = new Simulation();
        var order = new List<int>();
        for (var i = 0; i < 1000; i++)
        {
            var id = i;
            sim.Timeout(10).AddCallback(_ => order.Add(id));
        }

        // When
        sim.Run();

        // Then
        Assert.Equal(Enumerable.Range(0, 1000), order);
        Assert.Equal(10, sim.Now);
    }

    [Fact]
    public void A_Restarted_Timeout_Should_Fire_Again_At_Its_New_Time_And_Only_Once_Processed()
    {
        // Given a process that waits on one timeout object four times, with growing delays
        var sim = new Simulation();
        var wakes = new List<long>();
        Simulator.Engine.Timeout? step = null;
        IEnumerable<SimEvent> Loop()
        {
            for (var i = 1; i <= 4; i++)
            {
                yield return step = step is null ? sim.Timeout(i) : step.Restart(i);
                wakes.Add(sim.Now);
            }
        }
        sim.Process(Loop());

        // When
        sim.Run();

        // Then it woke at 1, 1+2, 3+3, 6+4, and restarting a timeout still queued is refused
        Assert.Equal([1L, 3, 6, 10], wakes);
        var pending = sim.Timeout(5);
        Assert.Throws<InvalidOperationException>(() => pending.Restart(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => step!.Restart(-1));
    }

    [Fact]
    public void Lower_Priority_Value_Should_Run_First_At_Equal_Time()
    {
        var sim = new Simulation();
        var order = new List<string>();
        sim.Timeout(5, EventPriority.Low).AddCallback(_ => order.Add("low"));
        sim.Timeout(5).AddCallback(_ => order.Add("normal"));
        sim.Timeout(5, EventPriority.Urgent).AddCallback(_ => order.Add("urgent"));
        sim.Timeout(4, EventPriority.Low).AddCallback(_ => order.Add("earlier"));

        sim.Run();

        Assert.Equal(["earlier", "urgent", "normal", "low"], order);
    }

    [Fact]
    public void Run_Until_Should_Stop_Before_Events_At_That_Time_And_Set_The_Clock()
    {
        var sim = new Simulation();
        var fired = new List<long>();
        foreach (var t in new long[] { 3, 10, 11 }) sim.Timeout(t).AddCallback(_ => fired.Add(sim.Now));

        sim.Run(10);

        Assert.Equal([3L], fired);
        Assert.Equal(10, sim.Now);
        sim.Run();
        Assert.Equal([3L, 10L, 11L], fired);
    }

    [Fact]
    public void Process_Should_Advance_Through_Timeouts_And_Succeed_At_Its_End()
    {
        var sim = new Simulation();
        var seen = new List<long>();
        IEnumerable<SimEvent> Body()
        {
            seen.Add(sim.Now);
            yield return sim.Timeout(7);
            seen.Add(sim.Now);
            yield return sim.Timeout(0);
            seen.Add(sim.Now);
        }

        var process = sim.Process(Body());
        long endedAt = -1;
        process.AddCallback(_ => endedAt = sim.Now);
        sim.Run();

        Assert.Equal([0L, 7L, 7L], seen);
        Assert.Equal(7, endedAt);
        Assert.False(process.IsAlive);
    }

    [Fact]
    public void Process_Should_Wait_For_Another_Process_And_Read_Typed_Values()
    {
        var sim = new Simulation();
        var signal = sim.Event<string>();
        string? received = null;
        IEnumerable<SimEvent> Waiter()
        {
            yield return signal;
            received = signal.Value;
        }
        IEnumerable<SimEvent> Sender()
        {
            yield return sim.Timeout(3);
            signal.Succeed("go");
        }

        var waiter = sim.Process(Waiter());
        sim.Process(Sender());
        sim.Run(waiter);

        Assert.Equal("go", received);
        Assert.Equal(3, sim.Now);
    }

    [Fact]
    public void Interrupt_Should_Resume_The_Process_Early_With_The_Cause()
    {
        // Given a process sleeping for 100 ns, interrupted at t = 30
        var sim = new Simulation();
        object? cause = null;
        long resumedAt = -1;
        IEnumerable<SimEvent> Sleeper()
        {
            yield return sim.Timeout(100);
            if (sim.ActiveProcess!.HandleFault(out var error)) cause = ((InterruptException)error!).Cause;
            resumedAt = sim.Now;
            yield return sim.Timeout(5);
        }
        var sleeper = sim.Process(Sleeper());
        IEnumerable<SimEvent> Waker()
        {
            yield return sim.Timeout(30);
            sleeper.Interrupt("preempted");
        }
        sim.Process(Waker());

        // When
        sim.Run();

        // Then the process resumed at 30, not 100, and its old timeout no longer wakes it
        Assert.Equal("preempted", cause);
        Assert.Equal(30, resumedAt);
        Assert.False(sleeper.IsAlive);
        Assert.Equal(100, sim.Now);
    }

    [Fact]
    public void Unhandled_Interrupt_Should_Stop_The_Run()
    {
        var sim = new Simulation();
        IEnumerable<SimEvent> Ignorer()
        {
            yield return sim.Timeout(100);
            yield return sim.Timeout(1);
        }
        var victim = sim.Process(Ignorer());
        sim.Timeout(10).AddCallback(_ => victim.Interrupt());

        var error = Assert.Throws<SimulationFaultException>(() => sim.Run());
        Assert.IsType<InterruptException>(error.InnerException);
    }

    [Fact]
    public void Exception_In_A_Process_Should_Fail_It_And_Surface_From_Run()
    {
        var sim = new Simulation();
        IEnumerable<SimEvent> Broken()
        {
            yield return sim.Timeout(1);
            throw new InvalidOperationException("boom");
        }
        sim.Process(Broken());

        var error = Assert.Throws<SimulationFaultException>(() => sim.Run());
        Assert.Equal("boom", error.InnerException!.Message);
    }

    [Fact]
    public void AllOf_And_AnyOf_Should_Trigger_On_All_And_First()
    {
        var sim = new Simulation();
        var a = sim.Timeout(5);
        var b = sim.Timeout(9);
        long allAt = -1, anyAt = -1;
        IReadOnlyList<SimEvent>? anyValue = null;
        sim.AllOf(a, b).AddCallback(_ => allAt = sim.Now);
        var any = sim.AnyOf(a, b);
        any.AddCallback(_ => { anyAt = sim.Now; anyValue = any.Value; });

        sim.Run();

        Assert.Equal(9, allAt);
        Assert.Equal(5, anyAt);
        Assert.Same(a, Assert.Single(anyValue!));
    }

    [Fact]
    public void AllOf_Of_Nothing_Should_Succeed_At_Once()
    {
        var sim = new Simulation();
        var all = sim.AllOf();
        sim.Run();
        Assert.True(all.IsProcessed && all.IsOk);
    }

    [Fact]
    public void Event_Cannot_Be_Triggered_Twice()
    {
        var sim = new Simulation();
        var ev = sim.Event();
        ev.Succeed();
        Assert.Throws<InvalidOperationException>(() => ev.Succeed());
    }

    [Fact]
    public void Clock_Should_Never_Go_Backwards()
    {
        var sim = new Simulation();
        var random = new Random(3);
        var times = new List<long>();
        IEnumerable<SimEvent> Wanderer()
        {
            for (var i = 0; i < 200; i++)
            {
                yield return sim.Timeout(random.Next(0, 50));
                times.Add(sim.Now);
            }
        }
        for (var p = 0; p < 20; p++) sim.Process(Wanderer());
        sim.Run();
        Assert.Equal(times.Order(), times);
    }
}
