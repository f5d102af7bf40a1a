namespace Recsys.Model.Training;

/// <summary>One user's history, oldest first, with item indexes in the model's vocabulary (1-based).</summary>
public sealed record UserSequence(string UserId, int[] Items, byte[] Types, long[] TimestampsSec, bool[] Purchases);

/// <summary>
/// A dataset of user sequences with its item vocabulary. Item index 0 is reserved for "unknown item", so the
/// vocabulary has <see cref="ItemCount"/> entries including it.
/// </summary>
public sealed class InteractionData
{
    public InteractionData(IReadOnlyList<UserSequence> users, IReadOnlyList<string> itemIds, bool hasTypes, bool hasTimestamps)
    {
        Users = users;
        ItemIds = itemIds;
        HasTypes = hasTypes;
        HasTimestamps = hasTimestamps;
    }

    public IReadOnlyList<UserSequence> Users { get; }

    /// <summary>External ids by index; index 0 is the unknown item.</summary>
    public IReadOnlyList<string> ItemIds { get; }

    public int ItemCount => ItemIds.Count;
    public bool HasTypes { get; }
    public bool HasTimestamps { get; }
    public long EventCount => Users.Sum(static u => (long)u.Items.Length);

    /// <summary>The same users in another vocabulary (a checkpoint's); items it does not know become 0.</summary>
    public InteractionData Remap(IReadOnlyList<string> itemIds)
    {
        var index = new Dictionary<string, int>(itemIds.Count, StringComparer.Ordinal);
        for (var i = 1; i < itemIds.Count; i++)
        {
            index[itemIds[i]] = i;
        }
        var users = Users.Select(u => u with { Items = u.Items.Select(i => index.GetValueOrDefault(ItemIds[i])).ToArray() }).ToList();
        return new InteractionData(users, itemIds, HasTypes, HasTimestamps);
    }
}

/// <summary>
/// Leave-one-out: each user's last event is the test target, the one before it the validation target, the
/// rest training history. Users with fewer than 3 events keep all their events for training.
/// </summary>
public static class LeaveOneOut
{
    /// <summary>The events a split may train on for <paramref name="user"/>.</summary>
    public static int TrainLength(UserSequence user) => user.Items.Length < 3 ? user.Items.Length : user.Items.Length - 2;

    public static bool HasTargets(UserSequence user) => user.Items.Length >= 3;
}
