using Recsys.Domain.Recommendation;

namespace Recsys.Grains;

[GenerateSerializer, Immutable]
public sealed record RecommendQuery([property: Id(0)] int Count, [property: Id(1)] RecommendationFilter Filter);

/// <summary>A recommended item with its relative score (the best is 1) and the reason shown to the shopper.</summary>
[GenerateSerializer, Immutable]
public sealed record RecommendedEntry([property: Id(0)] string ItemId, [property: Id(1)] double Score, [property: Id(2)] string Reason);

/// <summary>A list and the model version that made it (the fallback's own version when no model did).</summary>
[GenerateSerializer, Immutable]
public sealed record RecommendationList([property: Id(0)] string ModelVersion, [property: Id(1)] IReadOnlyList<RecommendedEntry> Items);

[GenerateSerializer, Immutable]
public sealed record BehaviourView([property: Id(0)] string ItemId, [property: Id(1)] string Type, [property: Id(2)] DateTimeOffset Timestamp);

/// <summary>What a user grain holds, newest behaviour first.</summary>
[GenerateSerializer, Immutable]
public sealed record UserView(
    [property: Id(0)] long EventCount,
    [property: Id(1)] DateTimeOffset? LastEventAt,
    [property: Id(2)] IReadOnlyList<BehaviourView> Recent,
    [property: Id(3)] IReadOnlyList<string> Purchased,
    [property: Id(4)] IReadOnlyList<string> Queries,
    [property: Id(5)] string? IntentModelVersion,
    [property: Id(6)] double? PurchaseIntent);
