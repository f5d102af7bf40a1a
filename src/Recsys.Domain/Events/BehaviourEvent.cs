namespace Recsys.Domain.Events;

/// <summary>A validated behaviour event. Build one through <see cref="EventValidator"/>.</summary>
public sealed record BehaviourEvent(
    string EventId,
    string UserId,
    string? ItemId,
    BehaviourType Type,
    DateTimeOffset Timestamp,
    string? Query)
{
    /// <summary>The recommendation list this event came from, when the storefront passed it on (feedback per model version).</summary>
    public string? RecommendationId { get; init; }
}

/// <summary>An event as it arrived, before validation: every field may be missing or wrong.</summary>
public sealed record EventInput(
    string? EventId,
    string? UserId,
    string? ItemId,
    string? Type,
    string? Timestamp,
    string? Query)
{
    public string? RecommendationId { get; init; }
}

/// <summary>One problem with one field of one input, worded for the person who sent it.</summary>
public sealed record FieldError(string Field, string Message);

public static class BehaviourEventBatches
{
    /// <summary>A batch split per user, each user's events in the order sent: the unit of a turn and of a stream message.</summary>
    public static Dictionary<string, List<BehaviourEvent>> ByUser(IReadOnlyList<BehaviourEvent> events)
    {
        var byUser = new Dictionary<string, List<BehaviourEvent>>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            if (!byUser.TryGetValue(e.UserId, out var list))
            {
                byUser[e.UserId] = list = [];
            }
            list.Add(e);
        }
        return byUser;
    }
}
