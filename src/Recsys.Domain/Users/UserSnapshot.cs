namespace Recsys.Domain.Users;

/// <summary>An immutable copy of a user's state, safe to read from any thread.</summary>
public sealed class UserSnapshot
{
    public static readonly UserSnapshot Empty = new(string.Empty, [], [], [], [], 0, 0);

    private UserSnapshot(string userId, BehaviourRecord[] recent, int[] seenSorted, int[] purchased, string[] queries, long eventCount, long lastEventMs)
    {
        UserId = userId;
        Recent = recent;
        SeenSorted = seenSorted;
        Purchased = purchased;
        Queries = queries;
        EventCount = eventCount;
        LastEventMs = lastEventMs;
    }

    public string UserId { get; }

    /// <summary>The behaviour window, oldest first.</summary>
    public IReadOnlyList<BehaviourRecord> Recent { get; }

    /// <summary>Items in the window or purchased, sorted, for binary-search lookups.</summary>
    public int[] SeenSorted { get; }

    public IReadOnlyList<int> Purchased { get; }

    public IReadOnlyList<string> Queries { get; }

    public long EventCount { get; }

    public long LastEventMs { get; }

    public bool IsCold => Recent.Count == 0;

    public bool HasSeen(int itemIndex) => Array.BinarySearch(SeenSorted, itemIndex) >= 0;

    public static UserSnapshot ForUnknownUser(string userId) => new(userId, [], [], [], [], 0, 0);

    internal static UserSnapshot From(UserState state)
    {
        var recent = state.Window.ToArray();
        var seen = new HashSet<int>(recent.Length + state.Purchased.Count);
        foreach (var record in recent)
        {
            seen.Add(record.ItemIndex);
        }
        foreach (var item in state.Purchased)
        {
            seen.Add(item);
        }
        var seenSorted = seen.ToArray();
        Array.Sort(seenSorted);
        return new UserSnapshot(state.UserId, recent, seenSorted, [.. state.Purchased], [.. state.Queries], state.EventCount, state.LastEventMs);
    }
}
