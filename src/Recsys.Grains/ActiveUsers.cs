using System.Collections.Concurrent;

namespace Recsys.Grains;

/// <summary>
/// The user grains this silo holds in memory, by user id, with what each publishes for reads (Orleans places and
/// collects them; this only mirrors the local activations), how many there are (a gauge), and how many events they
/// committed.
/// </summary>
public sealed class ActiveUsers
{
    private readonly ConcurrentDictionary<string, LocalUser> _users = new(StringComparer.Ordinal);
    private int _count;
    private long _eventsCommitted;

    public int Count => Volatile.Read(ref _count);

    /// <summary>Events this silo's user grains applied and committed since start (replays excluded).</summary>
    public long EventsCommitted => Interlocked.Read(ref _eventsCommitted);

    internal void Committed(int events) => Interlocked.Add(ref _eventsCommitted, events);

    /// <summary>The published state of <paramref name="userId"/> when its grain is active on this silo.</summary>
    public bool TryGet(string userId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out LocalUser? user) =>
        _users.TryGetValue(userId, out user);

    internal void Activated(LocalUser user)
    {
        _users[user.UserId] = user;
        Interlocked.Increment(ref _count);
    }

    internal void Deactivated(LocalUser user)
    {
        // Only this activation's entry: a newer activation of the same user may have replaced it.
        _users.TryRemove(new KeyValuePair<string, LocalUser>(user.UserId, user));
        Interlocked.Decrement(ref _count);
    }
}
