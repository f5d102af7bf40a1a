namespace Recsys.Actors.UnitTests;

public class ActorHostTests
{
    /// <summary>A bug here shows as a failed wait, never as a hung test run.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private readonly CounterStore _store = new();
    private readonly ManualClock _clock = new();

    private ActorHost<string, CounterActor> Host(int mailbox = 256, TimeSpan? fullWait = null) =>
        new(key => new CounterActor(key, _store),
            new ActorHostOptions
            {
                MailboxCapacity = mailbox,
                FullMailboxWait = fullWait ?? TimeSpan.FromSeconds(30),
                IdleTimeout = TimeSpan.FromMinutes(1),
                CollectionInterval = TimeSpan.FromHours(1), // the tests collect explicitly
            },
            _clock);

    private static ValueTask<int> Increment(ActorHost<string, CounterActor> host, string key) =>
        host.AskAsync(key, 0, static (actor, _) => actor.IncrementAsync());

    private static ValueTask<(int Value, int MaxConcurrent)> Inspect(ActorHost<string, CounterActor> host, string key) =>
        host.AskAsync(key, 0, static (actor, _) => (actor.Value, actor.MaxConcurrentTurns));

    [Fact]
    public async Task Turns_of_one_actor_never_overlap_under_concurrent_callers()
    {
        await using var host = Host();
        var calls = Enumerable.Range(0, 2000).Select(_ => Task.Run(async () => await Increment(host, "hot"))).ToArray();
        var results = await Task.WhenAll(calls).WaitAsync(Deadline);
        var (value, maxConcurrent) = await Inspect(host, "hot");
        Assert.Equal(2000, value); // no lost update despite the read-yield-write turn
        Assert.Equal(1, maxConcurrent);
        Assert.Equal(Enumerable.Range(1, 2000), results.Order()); // every caller saw its own turn's result
        Assert.Equal(1, host.TotalActivations);
    }

    [Fact]
    public async Task Each_key_has_its_own_activation_and_state()
    {
        await using var host = Host();
        await Task.WhenAll(Enumerable.Range(0, 100).Select(i => Increment(host, $"k{i % 10}").AsTask()));
        Assert.Equal(10, host.ActiveCount);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(10, (await Inspect(host, $"k{i}")).Value);
        }
    }

    [Fact]
    public async Task An_idle_actor_is_deactivated_with_its_state_persisted_and_reactivated_with_it()
    {
        await using var host = Host();
        await Increment(host, "a");
        await Increment(host, "a");
        await Increment(host, "b");
        _clock.Advance(TimeSpan.FromSeconds(30));
        await Increment(host, "b"); // b is busy, a is not
        _clock.Advance(TimeSpan.FromSeconds(31));

        Assert.Equal(1, await host.CollectIdleAsync());
        Assert.False(host.IsActive("a"));
        Assert.True(host.IsActive("b"));
        Assert.Equal(2, _store.Saved["a"]);

        Assert.Equal(3, await Increment(host, "a")); // reactivated from the persisted state
        Assert.Equal(2, _store.Loads["a"]);
    }

    [Fact]
    public async Task Messages_sent_while_an_actor_deactivates_wait_for_its_saved_state_and_are_not_lost()
    {
        await using var host = Host();
        await Increment(host, "a");
        var saveStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseSave = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _store.BeforeSave = async _ =>
        {
            saveStarted.TrySetResult();
            await releaseSave.Task;
        };
        _clock.Advance(TimeSpan.FromMinutes(2));
        var collecting = host.CollectIdleAsync();
        await saveStarted.Task.WaitAsync(Deadline);
        // The actor is saving: these must go to the next activation, after the save.
        var during = Enumerable.Range(0, 50).Select(_ => Increment(host, "a").AsTask()).ToArray();
        Assert.All(during, t => Assert.False(t.IsCompleted));
        _store.BeforeSave = null;
        releaseSave.SetResult();
        Assert.Equal(1, await collecting.WaitAsync(Deadline));
        await Task.WhenAll(during).WaitAsync(Deadline);
        Assert.Equal(51, (await Inspect(host, "a")).Value);
    }

    [Fact]
    public async Task A_full_mailbox_holds_senders_back_until_there_is_room()
    {
        await using var host = Host(mailbox: 2);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var blocked = host.AskAsync("slow", gate.Task, static async (actor, g) => { await g; return await actor.IncrementAsync(); }).AsTask();
        await WaitUntil(() => host.IsActive("slow"));
        // Once the first turn is running, two more fit in the mailbox; the rest must wait.
        var queued = Enumerable.Range(0, 6).Select(_ => Increment(host, "slow").AsTask()).ToArray();
        await WaitUntil(() => queued.Count(t => !t.IsCompleted) == 6);
        Assert.All(queued, t => Assert.False(t.IsCompleted));
        gate.SetResult();
        await Task.WhenAll(queued.Append(blocked)).WaitAsync(Deadline);
        Assert.Equal(7, (await Inspect(host, "slow")).Value);
    }

    [Fact]
    public async Task A_sender_that_waits_too_long_for_room_gets_a_mailbox_full_error()
    {
        await using var host = Host(mailbox: 1, fullWait: TimeSpan.FromMilliseconds(50));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var blocked = host.AskAsync("slow", gate.Task, static async (actor, g) => { await g; return 0; }).AsTask();
        await WaitUntil(() => host.IsActive("slow"));
        var fits = Increment(host, "slow").AsTask(); // fills the one slot
        var error = await Assert.ThrowsAsync<MailboxFullException>(() => Increment(host, "slow").AsTask());
        Assert.Contains("retry later", error.Message, StringComparison.Ordinal);
        gate.SetResult();
        await blocked;
        Assert.Equal(1, await fits); // the one that fitted still ran
    }

    [Fact]
    public async Task A_failing_turn_fails_its_caller_only_and_the_actor_keeps_its_state()
    {
        await using var host = Host();
        await Increment(host, "a");
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            host.AskAsync("a", 0, static ValueTask<int> (CounterActor _, int _) => throw new InvalidOperationException("boom")).AsTask());
        Assert.Equal(2, await Increment(host, "a"));
    }

    [Fact]
    public async Task A_failed_activation_fails_its_messages_and_the_next_message_tries_again()
    {
        await using var host = Host();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Increment(host, "broken-1").AsTask());
        Assert.Contains("could not be activated", error.Message, StringComparison.Ordinal);
        Assert.False(host.IsActive("broken-1"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => Increment(host, "broken-1").AsTask());
        Assert.Equal(2, _store.Loads["broken-1"]);
    }

    [Fact]
    public async Task Disposing_the_host_persists_every_active_actor()
    {
        var host = Host();
        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Increment(host, $"k{i}").AsTask()));
        await host.DisposeAsync();
        Assert.Equal(20, _store.Saved.Count);
        Assert.All(_store.Saved.Values, v => Assert.Equal(1, v));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => Increment(host, "late").AsTask());
    }

    [Fact]
    public async Task Concurrent_traffic_and_repeated_collection_lose_no_update()
    {
        await using var host = Host();
        using var stop = new CancellationTokenSource();
        // Every collection pass finds everything idle (the clock jumps), racing deactivation against new messages.
        var collector = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                _clock.Advance(TimeSpan.FromMinutes(2));
                await host.CollectIdleAsync();
            }
        });
        // Each sender sends at least 500 and keeps going until the collector has deactivated something, so a busy
        // machine that schedules the collector late still exercises the race.
        var sent = 0;
        var until = DateTime.UtcNow + Deadline;
        var senders = Enumerable.Range(0, 8).Select(s => Task.Run(async () =>
        {
            for (var i = 0; i < 500 || (host.TotalDeactivations == 0 && DateTime.UtcNow < until); i++)
            {
                await Increment(host, $"k{(s + i) % 4}");
                Interlocked.Increment(ref sent);
            }
        })).ToArray();
        await Task.WhenAll(senders).WaitAsync(Deadline + TimeSpan.FromSeconds(5));
        await stop.CancelAsync();
        await collector.WaitAsync(Deadline);
        var total = 0;
        for (var k = 0; k < 4; k++)
        {
            total += (await Inspect(host, $"k{k}")).Value;
        }
        Assert.True(sent >= 4000);
        Assert.Equal(sent, total);
        Assert.True(host.TotalDeactivations > 0, "the race was not exercised: no deactivation happened");
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached within 10 s");
            await Task.Delay(5);
        }
    }
}
