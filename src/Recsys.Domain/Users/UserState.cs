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

    /// <summary>The API's batch limit: a whole batch resent is always recognised.</summary>
    public const int DefaultDedupHorizon = 1000;

    /// <summary>How many recent behaviours a user keeps (oldest dropped first).</summary>
    public int WindowCapacity { get; init; } = DefaultWindowCapacity;

    /// <summary>
    /// The dedup guarantee by count: the ids of the user's last this many accepted events are always remembered, so
    /// a resend of any batch the API accepts (at most this many events) is recognised. Ten bytes per id held.
    /// </summary>
    public int DedupHorizon { get; init; } = DefaultDedupHorizon;

    /// <summary>The guarantee by time: ids accepted this recently are remembered too, beyond the count.</summary>
    public TimeSpan DedupTime { get; init; } = TimeSpan.FromHours(24);

    /// <summary>The most ids a user holds: past it the oldest go even within <see cref="DedupTime"/> (memory's bound).</summary>
    public int DedupMaxIds { get; init; } = 10_000;

    /// <summary>How many purchased items are remembered for "exclude purchased".</summary>
    public int PurchaseMemory { get; init; } = 200;

    /// <summary>How many recent search texts are kept.</summary>
    public int QueryMemory { get; init; } = 5;

    /// <summary><see cref="DedupTime"/> in the minutes the ring keeps (a minute's resolution is enough for retries).</summary>
    internal int DedupMinutes => (int)Math.Min(ushort.MaxValue / 2, Math.Ceiling(DedupTime.TotalMinutes));

    public void Validate()
    {
        if (WindowCapacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(WindowCapacity), WindowCapacity, "the behaviour window must hold at least one event");
        }
        if (DedupHorizon < 1 || DedupMaxIds < DedupHorizon)
        {
            throw new ArgumentOutOfRangeException(nameof(DedupHorizon), DedupHorizon,
                $"the dedup horizon must be at least 1 and at most DedupMaxIds ({DedupMaxIds})");
        }
        if (DedupTime < TimeSpan.Zero || DedupTime.TotalMinutes > ushort.MaxValue / 2)
        {
            throw new ArgumentOutOfRangeException(nameof(DedupTime), DedupTime, "the dedup time must be from 0 to 22 days");
        }
        if (PurchaseMemory < 0 || QueryMemory < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(PurchaseMemory), "purchase memory and query memory must not be negative");
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
    private ushort[] _eventKeyMinutes = []; // when each id was accepted, in minutes of the Unix clock modulo 2^16
    private int _eventKeyHead; // the oldest id's slot of the ring
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

    /// <summary>Event ids held for dedup (hashed; a count, for export and erasure).</summary>
    public int RememberedEventIds => _eventKeyCount;

    public IReadOnlyList<int> Purchased => (IReadOnlyList<int>?)_purchased ?? [];

    public IReadOnlyList<string> Queries => (IReadOnlyList<string>?)_queries ?? [];


    public bool HasSeenEvent(string eventId) => HasSeenEventKey(Identifier.StableHash64(eventId));

    private bool IsAmongNewestKeys(ulong key, int count)
    {
        var (older, newer) = EventKeysOldestFirst();
        var fromNewer = Math.Min(count, newer.Length);
        return newer.Span[^fromNewer..].Contains(key) || older.Span[^Math.Min(count - fromNewer, older.Length)..].Contains(key);
    }

    private bool HasSeenEventKey(ulong key)
    {
        var (older, newer) = EventKeysOldestFirst();
        return older.Span.Contains(key) || newer.Span.Contains(key);
    }

    /// <summary>
    /// Marks the events of one batch whose ids the user already holds, before any of them is applied: applying the
    /// rest may forget old ids (past both guarantees), and that must not make the batch's own later events look new.
    /// </summary>
    public void MarkKnown(IReadOnlyList<BehaviourEvent> events, Span<bool> known)
    {
        for (var i = 0; i < events.Count; i++)
        {
            known[i] = HasSeenEvent(events[i].EventId);
        }
    }

    /// <summary>
    /// Sizes the window and the id ring for <paramref name="events"/> more events, so a batch grows each at most once
    /// and to what it needs (doubling left a quarter of a resident user's arrays empty on average). The window is
    /// sized exactly, because a published snapshot makes the next change copy it anyway; the ring by at least a
    /// quarter, so users that grow one event at a time do not copy it on every event.
    /// </summary>
    public void Reserve(int events)
    {
        if (events <= 0)
        {
            return;
        }
        var window = (int)Math.Min(_options.WindowCapacity, (long)_windowCount + events);
        if (window > _window.Length || (_windowShared && window > _windowCount))
        {
            CopyWindow(window);
        }
        var ids = (int)Math.Min(_options.DedupMaxIds, (long)_eventKeyCount + events);
        if (ids > _recentEventKeys.Length)
        {
            ResizeRing(Math.Min(_options.DedupMaxIds, Math.Max(ids, _recentEventKeys.Length + _recentEventKeys.Length / 4)));
        }
    }

    /// <summary>
    /// Applies one event accepted at <paramref name="nowMs"/> (the server's clock, Unix milliseconds);
    /// <paramref name="itemIndex"/> is -1 for a search without an item. In a batch that <see cref="MarkKnown"/> already
    /// checked, <paramref name="appliedInBatch"/> (the events applied before this one) limits the check to the ids the
    /// batch added: a user may hold thousands of ids, and scanning them twice per event showed in the event path's figures.
    /// </summary>
    public ApplyOutcome Apply(BehaviourEvent e, int itemIndex, long nowMs, int appliedInBatch = -1)
    {
        var key = Identifier.StableHash64(e.EventId);
        if (appliedInBatch >= 0 ? IsAmongNewestKeys(key, appliedInBatch) : HasSeenEventKey(key))
        {
            return ApplyOutcome.Duplicate;
        }
        RememberEventKey(key, Minute(nowMs), Minute(nowMs));

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

    internal static ushort Minute(long unixMs) => (ushort)(unixMs / 60_000);

    /// <summary>
    /// Remembers an id. The oldest ids are forgotten only while the user holds more than the horizon's count and they
    /// are older than the dedup time, or at the hard cap; otherwise the ring grows. So an id within either guarantee is
    /// never pushed out, whatever is applied after it (a re-applied event cannot evict the ids of its own batch).
    /// </summary>
    private void RememberEventKey(ulong key, ushort acceptedMinute, ushort nowMinute)
    {
        while (_eventKeyCount >= _options.DedupHorizon && (ushort)(nowMinute - _eventKeyMinutes[_eventKeyHead]) > _options.DedupMinutes)
        {
            ForgetOldestKey();
        }
        if (_eventKeyCount == _recentEventKeys.Length)
        {
            if (_eventKeyCount >= _options.DedupMaxIds)
            {
                ForgetOldestKey();
            }
            else
            {
                Grow();
            }
        }
        var slot = (_eventKeyHead + _eventKeyCount) % _recentEventKeys.Length;
        _recentEventKeys[slot] = key;
        _eventKeyMinutes[slot] = acceptedMinute;
        _eventKeyCount++;
    }

    private void ForgetOldestKey()
    {
        _eventKeyHead = (_eventKeyHead + 1) % _recentEventKeys.Length;
        _eventKeyCount--;
    }

    /// <summary>A full ring (outside <see cref="Reserve"/>), copied oldest first into one twice the size.</summary>
    private void Grow() => ResizeRing(Math.Min(_options.DedupMaxIds, Math.Max(InitialCapacity, 2 * _recentEventKeys.Length)));

    private void ResizeRing(int capacity)
    {
        var keys = new ulong[capacity];
        var minutes = new ushort[capacity];
        var (olderKeys, newerKeys) = EventKeysOldestFirst();
        olderKeys.Span.CopyTo(keys);
        newerKeys.Span.CopyTo(keys.AsSpan(olderKeys.Length));
        var (olderMinutes, newerMinutes) = EventKeyMinutesOldestFirst();
        olderMinutes.Span.CopyTo(minutes);
        newerMinutes.Span.CopyTo(minutes.AsSpan(olderMinutes.Length));
        _recentEventKeys = keys;
        _eventKeyMinutes = minutes;
        _eventKeyHead = 0;
    }

    private void InsertIntoWindow(BehaviourRecord record)
    {
        if (_windowShared || (_windowCount == _window.Length && _window.Length < _options.WindowCapacity))
        {
            // A snapshot reads the current array: change a copy. Grow while below capacity.
            CopyWindow(_windowCount < _window.Length ? _window.Length
                : Math.Min(_options.WindowCapacity, Math.Max(InitialCapacity, 2 * _window.Length)));
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

    private void CopyWindow(int capacity)
    {
        var copy = new BehaviourRecord[capacity];
        _window.AsSpan(0, _windowCount).CopyTo(copy);
        _window = copy;
        _windowShared = false;
    }

    /// <summary>Rebuilds a state from persisted parts (see <see cref="UserStateCodec"/>).</summary>
    internal void Restore(ReadOnlySpan<BehaviourRecord> window, ReadOnlySpan<ulong> eventKeysOldestFirst,
        ReadOnlySpan<ushort> acceptedMinutes, IEnumerable<int> purchased, IEnumerable<string> queries, long eventCount, long lastEventMs,
        long nowMs)
    {
        var keep = window[Math.Max(0, window.Length - _options.WindowCapacity)..];
        _window = keep.ToArray();
        _windowCount = keep.Length;
        _windowShared = false;
        // Ids past both guarantees are dropped on the way in: a ring that grew in a burst is rebuilt at its live size.
        var now = Minute(nowMs);
        for (var i = Math.Max(0, eventKeysOldestFirst.Length - _options.DedupMaxIds); i < eventKeysOldestFirst.Length; i++)
        {
            RememberEventKey(eventKeysOldestFirst[i], acceptedMinutes[i], now);
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

    /// <summary>The remembered event keys, oldest first, as the two runs of the ring (no copy).</summary>
    internal (ReadOnlyMemory<ulong> Older, ReadOnlyMemory<ulong> Newer) EventKeysOldestFirst() =>
        OldestFirst(_recentEventKeys);

    /// <summary>When each key of <see cref="EventKeysOldestFirst"/> was accepted, in the same order.</summary>
    internal (ReadOnlyMemory<ushort> Older, ReadOnlyMemory<ushort> Newer) EventKeyMinutesOldestFirst() =>
        OldestFirst(_eventKeyMinutes);

    private (ReadOnlyMemory<T> Older, ReadOnlyMemory<T> Newer) OldestFirst<T>(T[] ring) =>
        _eventKeyHead + _eventKeyCount <= ring.Length
            ? (ring.AsMemory(_eventKeyHead, _eventKeyCount), ReadOnlyMemory<T>.Empty)
            : (ring.AsMemory(_eventKeyHead), ring.AsMemory(0, _eventKeyHead + _eventKeyCount - ring.Length));
}
