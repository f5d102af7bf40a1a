using System.Runtime.InteropServices;
using Recsys.Domain.Events;

namespace Recsys.Domain.Users;

/// <summary>
/// One behaviour in a user's window: which item, what was done, when (Unix milliseconds). Packed to 13 bytes:
/// windows of every resident user are the bulk of a silo's memory.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public readonly record struct BehaviourRecord(int ItemIndex, BehaviourType Type, long TimestampMs);

public sealed record UserStateOptions
{
    public const int DefaultWindowCapacity = 200;

    /// <summary>How many recent behaviours a user keeps (oldest dropped first).</summary>
    public int WindowCapacity { get; init; } = DefaultWindowCapacity;

    /// <summary>
    /// How many of the user's latest event ids are remembered for dedup (retries and redeliveries resend recent
    /// events); 0 means as many as the window holds. Eight bytes per id and resident user.
    /// </summary>
    public int DedupHorizon { get; init; }

    /// <summary>How many purchased items are remembered for "exclude purchased".</summary>
    public int PurchaseMemory { get; init; } = 200;

    /// <summary>How many recent search texts are kept.</summary>
    public int QueryMemory { get; init; } = 5;

    public int EffectiveDedupHorizon => DedupHorizon > 0 ? DedupHorizon : WindowCapacity;

    public void Validate()
    {
        if (WindowCapacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(WindowCapacity), WindowCapacity, "the behaviour window must hold at least one event");
        }
        if (DedupHorizon < 0 || PurchaseMemory < 0 || QueryMemory < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(DedupHorizon), "dedup horizon, purchase memory and query memory must not be negative");
        }
    }
}

public enum ApplyOutcome
{
    Applied,
    Duplicate,
}

/// <summary>
/// A user's recent behaviour: a bounded, time-ordered window, the ids of recent events (so a replayed
/// event changes nothing), purchases and searches. Not thread-safe: its owning actor serialises access.
/// Sized for millions of resident users: arrays grow with the user's history up to their bounds, and a snapshot
/// shares the window array (copied on the next change) instead of holding a second copy.
/// </summary>
public sealed class UserState
{
    private const int InitialCapacity = 8;
    private readonly UserStateOptions _options;
    private BehaviourRecord[] _window = [];
    private int _windowCount;
    private bool _windowShared;
    private ulong[] _recentEventKeys = [];
    private int _eventKeyNext;
    private int _eventKeyCount;
    private List<int>? _purchased;
    private List<string>? _queries;
    private UserSnapshot? _snapshot;

    public UserState(string userId, UserStateOptions options)
    {
        options.Validate();
        UserId = userId;
        _options = options;
    }

    public string UserId { get; }

    public UserStateOptions Options => _options;

    /// <summary>Events applied over the user's life (duplicates excluded), not just those in the window.</summary>
    public long EventCount { get; private set; }

    public long LastEventMs { get; private set; }

    public int WindowCount => _windowCount;

    public bool IsEmpty => EventCount == 0;

    /// <summary>The window, oldest first.</summary>
    public ReadOnlySpan<BehaviourRecord> Window => _window.AsSpan(0, _windowCount);

    public IReadOnlyList<int> Purchased => (IReadOnlyList<int>?)_purchased ?? [];

    public IReadOnlyList<string> Queries => (IReadOnlyList<string>?)_queries ?? [];

    public ReadOnlySpan<ulong> RecentEventKeys => _recentEventKeys.AsSpan(0, _eventKeyCount);

    public bool HasSeenEvent(string eventId) => HasSeenEventKey(Identifier.StableHash64(eventId));

    private bool HasSeenEventKey(ulong key) => _recentEventKeys.AsSpan(0, _eventKeyCount).Contains(key);

    /// <summary>Applies one event; <paramref name="itemIndex"/> is -1 for a search without an item.</summary>
    public ApplyOutcome Apply(BehaviourEvent e, int itemIndex)
    {
        var key = Identifier.StableHash64(e.EventId);
        if (HasSeenEventKey(key))
        {
            return ApplyOutcome.Duplicate;
        }
        RememberEventKey(key);

        var timestampMs = e.Timestamp.ToUnixTimeMilliseconds();
        if (itemIndex >= 0)
        {
            InsertIntoWindow(new BehaviourRecord(itemIndex, e.Type, timestampMs));
        }
        if (e.Type == BehaviourType.Purchase && itemIndex >= 0 && _options.PurchaseMemory > 0 && _purchased?.Contains(itemIndex) != true)
        {
            _purchased ??= [];
            if (_purchased.Count == _options.PurchaseMemory)
            {
                _purchased.RemoveAt(0);
            }
            _purchased.Add(itemIndex);
        }
        if (!string.IsNullOrWhiteSpace(e.Query) && _options.QueryMemory > 0)
        {
            _queries ??= [];
            if (_queries.Count == _options.QueryMemory)
            {
                _queries.RemoveAt(0);
            }
            _queries.Add(e.Query);
        }
        EventCount++;
        LastEventMs = Math.Max(LastEventMs, timestampMs);
        _snapshot = null;
        return ApplyOutcome.Applied;
    }

    /// <summary>An immutable view for readers outside the actor; cached until the next change.</summary>
    public UserSnapshot Snapshot()
    {
        if (_snapshot is null)
        {
            _snapshot = UserSnapshot.From(this, new ArraySegment<BehaviourRecord>(_window, 0, _windowCount));
            _windowShared = true;
        }
        return _snapshot;
    }

    private void RememberEventKey(ulong key)
    {
        if (_eventKeyCount == _recentEventKeys.Length && _recentEventKeys.Length < _options.EffectiveDedupHorizon)
        {
            // Still growing, so the ring has not wrapped yet: the keys are in order and the next slot is the end.
            Array.Resize(ref _recentEventKeys, Math.Min(_options.EffectiveDedupHorizon, Math.Max(InitialCapacity, 2 * _recentEventKeys.Length)));
            _eventKeyNext = _eventKeyCount;
        }
        _recentEventKeys[_eventKeyNext] = key;
        _eventKeyNext = (_eventKeyNext + 1) % _recentEventKeys.Length;
        _eventKeyCount = Math.Min(_eventKeyCount + 1, _recentEventKeys.Length);
    }

    private void InsertIntoWindow(BehaviourRecord record)
    {
        if (_windowShared || (_windowCount == _window.Length && _window.Length < _options.WindowCapacity))
        {
            // A snapshot reads the current array: change a copy. Grow while below capacity.
            var capacity = _windowCount < _window.Length ? _window.Length
                : Math.Min(_options.WindowCapacity, Math.Max(InitialCapacity, 2 * _window.Length));
            var copy = new BehaviourRecord[capacity];
            _window.AsSpan(0, _windowCount).CopyTo(copy);
            _window = copy;
            _windowShared = false;
        }
        // Events mostly arrive in time order, so the slot is found from the end.
        var position = _windowCount;
        while (position > 0 && _window[position - 1].TimestampMs > record.TimestampMs)
        {
            position--;
        }
        if (_windowCount == _window.Length)
        {
            if (position == 0)
            {
                return; // older than everything in a full window: it counts, but does not displace newer behaviour
            }
            Array.Copy(_window, 1, _window, 0, position - 1);
            _window[position - 1] = record;
            return;
        }
        Array.Copy(_window, position, _window, position + 1, _windowCount - position);
        _window[position] = record;
        _windowCount++;
    }

    /// <summary>Rebuilds a state from persisted parts (see <see cref="UserStateCodec"/>).</summary>
    internal void Restore(ReadOnlySpan<BehaviourRecord> window, ReadOnlySpan<ulong> eventKeysOldestFirst,
        IEnumerable<int> purchased, IEnumerable<string> queries, long eventCount, long lastEventMs)
    {
        var keep = window[Math.Max(0, window.Length - _options.WindowCapacity)..];
        _window = keep.ToArray();
        _windowCount = keep.Length;
        _windowShared = false;
        foreach (var key in eventKeysOldestFirst)
        {
            RememberEventKey(key);
        }
        foreach (var item in purchased.TakeLast(_options.PurchaseMemory))
        {
            (_purchased ??= []).Add(item);
        }
        foreach (var query in queries.TakeLast(_options.QueryMemory))
        {
            (_queries ??= []).Add(query);
        }
        EventCount = eventCount;
        LastEventMs = lastEventMs;
        _snapshot = null;
    }

    /// <summary>The remembered event keys, oldest first, for persistence.</summary>
    /// <summary>The remembered event keys, oldest first, as the two runs of the ring (no copy).</summary>
    internal (ReadOnlyMemory<ulong> Older, ReadOnlyMemory<ulong> Newer) EventKeysOldestFirst()
    {
        if (_eventKeyCount < _recentEventKeys.Length)
        {
            return (_recentEventKeys.AsMemory(0, _eventKeyCount), ReadOnlyMemory<ulong>.Empty);
        }
        return (_recentEventKeys.AsMemory(_eventKeyNext), _recentEventKeys.AsMemory(0, _eventKeyNext));
    }
}
