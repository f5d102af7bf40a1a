using System.Collections.Concurrent;

namespace Recsys.Actors.UnitTests;

/// <summary>A store shared by activations, so a test can see what deactivation persisted.</summary>
internal sealed class CounterStore
{
    public ConcurrentDictionary<string, int> Saved { get; } = new();
    public ConcurrentDictionary<string, int> Loads { get; } = new();
    public Func<string, Task>? BeforeSave { get; set; }
}

/// <summary>
/// A deliberately racy actor: it reads, yields, then writes its counter, so two turns running at once
/// would lose updates. Records how many of its turns overlap.
/// </summary>
internal sealed class CounterActor(string key, CounterStore store) : IActor
{
    private int _inTurn;

    public int Value { get; private set; }
    public int MaxConcurrentTurns { get; private set; }
    public bool FailActivation { get; init; }

    public async ValueTask OnActivateAsync(CancellationToken cancellationToken)
    {
        store.Loads.AddOrUpdate(key, 1, (_, n) => n + 1);
        await Task.Yield();
        if (key.StartsWith("broken", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("cannot load " + key);
        }
        Value = store.Saved.TryGetValue(key, out var saved) ? saved : 0;
    }

    public async ValueTask OnDeactivateAsync(CancellationToken cancellationToken)
    {
        if (store.BeforeSave is { } hook)
        {
            await hook(key);
        }
        store.Saved[key] = Value;
    }

    public async ValueTask<int> IncrementAsync()
    {
        var concurrent = Interlocked.Increment(ref _inTurn);
        MaxConcurrentTurns = Math.Max(MaxConcurrentTurns, concurrent);
        var read = Value;
        await Task.Yield();
        Value = read + 1;
        Interlocked.Decrement(ref _inTurn);
        return Value;
    }
}

internal sealed class ManualClock : TimeProvider
{
    private long _ticks = 1_000_000;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
