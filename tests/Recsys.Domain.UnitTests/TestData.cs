using Recsys.Domain.Events;

namespace Recsys.Domain.UnitTests;

internal static class TestData
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    private static int s_counter;

    public static BehaviourEvent Event(string user, string? item, BehaviourType type = BehaviourType.View, int minute = 0, string? id = null, string? query = null) =>
        new(id ?? $"e{Interlocked.Increment(ref s_counter)}", user, item, type, T0.AddMinutes(minute), query);

    public static EventInput Input(string? eventId = "e1", string? userId = "u1", string? itemId = "i1", string? type = "view",
        string? timestamp = "2026-11-01T12:00:00Z", string? query = null) =>
        new(eventId, userId, itemId, type, timestamp, query);
}

/// <summary>A clock the test sets by hand.</summary>
internal sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
