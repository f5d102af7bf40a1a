using Recsys.Domain.Events;

namespace Recsys.Grains;

// The domain stays free of Orleans: its events cross grain calls through this surrogate.

[GenerateSerializer]
public struct BehaviourEventSurrogate
{
    [Id(0)] public string EventId { get; set; }
    [Id(1)] public string UserId { get; set; }
    [Id(2)] public string? ItemId { get; set; }
    [Id(3)] public byte Type { get; set; }
    [Id(4)] public DateTimeOffset Timestamp { get; set; }
    [Id(5)] public string? Query { get; set; }
    [Id(6)] public string? RecommendationId { get; set; }
}

[RegisterConverter]
public sealed class BehaviourEventConverter : IConverter<BehaviourEvent, BehaviourEventSurrogate>
{
    public BehaviourEvent ConvertFromSurrogate(in BehaviourEventSurrogate surrogate) =>
        new(surrogate.EventId, surrogate.UserId, surrogate.ItemId, (BehaviourType)surrogate.Type, surrogate.Timestamp, surrogate.Query)
        {
            RecommendationId = surrogate.RecommendationId,
        };

    public BehaviourEventSurrogate ConvertToSurrogate(in BehaviourEvent value) => new()
    {
        EventId = value.EventId,
        UserId = value.UserId,
        ItemId = value.ItemId,
        Type = (byte)value.Type,
        Timestamp = value.Timestamp,
        Query = value.Query,
        RecommendationId = value.RecommendationId,
    };
}
