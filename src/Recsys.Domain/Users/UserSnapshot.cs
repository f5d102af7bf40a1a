namespace Recsys.Domain.Users;

/// <summary>An immutable copy of a user's state, safe to read from any thread.</summary>
public sealed class UserSnapshot
{
    public static readonly UserSnapshot Empty = new(string.Empty, [], [], [], [], 0, 0);

    private int[]? _seenSorted;

    private UserSnapshot(string userId, IReadOnlyList<BehaviourRecord> recent, int[]? seenSorted, int[] purchased, string[] queries, long eventCount, long lastEventMs)
    {
        UserId = userId;
        Recent = recent;
        _seenSorted = seenSorted;
        Purchased = purchased;
        Queries = queries;
        EventCount = eventCount;
        LastEventMs = lastEventMs;
    }

    public string UserId { get; }

    /// <summary>The behaviour window, oldest first.</summary>
    public IReadOnlyList<BehaviourRecord> Recent { get; }

    /// <summary>
    /// Items in the window or purchased, sorted, for binary-search lookups. Built on first use: most resident
    /// users' snapshots are only ever encoded, never filtered against.
    /// </summary>
    public int[] SeenSorted => Volatile.Read(ref _seenSorted) ?? BuildSeenSorted();

    public IReadOnlyList<int> Purchased { get; }

    public IReadOnlyList<string> Queries { get; }

    public long EventCount { get; }

    public long LastEventMs { get; }

    public bool IsCold => Recent.Count == 0;

    public bool HasSeen(int itemIndex) => Array.BinarySearch(SeenSorted, itemIndex) >= 0;

    public static UserSnapshot ForUnknownUser(string userId) => new(userId, [], [], [], [], 0, 0);

    /// <summary>A snapshot over <paramref name="recent"/>, which the state promises never to change again.</summary>
    internal static UserSnapshot From(UserState state, ArraySegment<BehaviourRecord> recent) =>
        new(state.UserId, recent, null, state.Purchased.Count == 0 ? [] : [.. state.Purchased],
            state.Queries.Count == 0 ? [] : [.. state.Queries], state.EventCount, state.LastEventMs);

    private int[] BuildSeenSorted()
    {
        var seen = new HashSet<int>(Recent.Count + Purchased.Count);
        foreach (var record in Recent)
        {
            seen.Add(record.ItemIndex);
        }
        foreach (var item in Purchased)
        {
            seen.Add(item);
        }
        var sorted = seen.ToArray();
        Array.Sort(sorted);
        // Racing readers build equal arrays; whichever lands is the one kept.
        return Interlocked.CompareExchange(ref _seenSorted, sorted, null) ?? sorted;
    }
}
