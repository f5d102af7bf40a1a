using System.Text.Json;
using System.Text.Json.Serialization;

namespace Recsys.Contracts;

/// <summary>One recommended item: <c>score</c> is a relative strength in [0, 1], best first.</summary>
public sealed record RecommendedItem(string ItemId, double Score, string Reason);

/// <summary>GET /v1/users/{userId}/recommendations.</summary>
public sealed record RecommendationsResponse(string UserId, string RecommendationId, string ModelVersion, IReadOnlyList<RecommendedItem> Items);

/// <summary>GET /v1/items/{itemId}/similar: the recommendations shape, for an item instead of a user.</summary>
public sealed record SimilarItemsResponse(string ItemId, string RecommendationId, string ModelVersion, IReadOnlyList<RecommendedItem> Items);

public sealed record RecentBehaviour(string ItemId, string Type, DateTimeOffset Timestamp);

/// <summary>The intent the model inferred (absent until a model encoded the user); purchase intent needs a model with a purchase head.</summary>
public sealed record UserIntent(string ModelVersion, double? PurchaseIntent);

/// <summary>GET /v1/users/{userId}: what the user's actor holds.</summary>
public sealed record UserProfileResponse(
    string UserId,
    long EventCount,
    DateTimeOffset? LastEventAt,
    IReadOnlyList<RecentBehaviour> Recent,
    IReadOnlyList<string> Purchased,
    IReadOnlyList<string> RecentQueries,
    UserIntent? Intent);

/// <summary>GET /v1/users/{userId}/export: everything the service keeps about the user.</summary>
public sealed record UserExportResponse(
    string UserId, long EventCount, DateTimeOffset? LastEventAt, IReadOnlyList<RecentBehaviour> Behaviours, IReadOnlyList<string> Purchased,
    IReadOnlyList<string> RecentSearches, int RememberedEventIds, UserIntent? Intent, IReadOnlyList<float>? IntentVector);

/// <summary>DELETE /v1/users/{userId}: what was removed.</summary>
public sealed record UserErasedResponse(
    string UserId, long Events, int Behaviours, int Purchases, int Searches, int EventIds, bool Intent);

/// <summary>POST /v1/events: 202 when every event was valid.</summary>
public sealed record EventsAcceptedResponse(int Received, int Accepted, int Duplicates, int Rejected);

/// <summary>POST /v1/items: 200 when every item was valid.</summary>
public sealed record ItemsUpsertedResponse(int Received, int Upserted, int Rejected);

/// <summary>An event as clients send it (used by clients such as <c>simulate</c>; the server reads events field by field).</summary>
public sealed record EventRequest(
    string EventId,
    string UserId,
    string? ItemId,
    string Type,
    DateTimeOffset Timestamp,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Query,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? RecommendationId = null);

/// <summary>A catalogue item as clients send it.</summary>
public sealed record ItemRequest(string ItemId, string? Title, string? Category, decimal? Price, bool InStock);

/// <summary>POST /v1/admin/models: load a checkpoint as the primary model or as an A/B candidate for a share of users.</summary>
public sealed record ModelLoadRequest(string? Path, string? Role, double? Share);

/// <summary>A model a silo serves: <c>role</c> is primary or candidate; <c>share</c> is the fraction of users it serves.</summary>
/// <summary>
/// A loaded model. <c>CatalogueItemsKnown</c> of the catalogue's items have a vector in it (<c>CatalogueCoverage</c>,
/// their share); a warning says when that share is low, since the model can rank only those.
/// </summary>
public sealed record LoadedModel(string Version, string Role, double Share, int Items, int Dim, int MaxLength, DateTimeOffset LoadedAt,
    int CatalogueItemsKnown, double CatalogueCoverage, string? Warning);

/// <summary>
/// Feedback for one model version: lists served, and events that carried one of its recommendation ids.
/// Rates are per served list (click events / lists, purchase events / lists).
/// </summary>
public sealed record ModelFeedback(string ModelVersion, long Recommendations, long Views, long Clicks, long Carts, long Purchases,
    double ClickThroughRate, double PurchaseRate);

/// <summary>GET /v1/admin/models: what is loaded, and how each version's recommendations fared.</summary>
public sealed record ModelsResponse(IReadOnlyList<LoadedModel> Models, IReadOnlyList<ModelFeedback> Feedback);

/// <summary>GET /v1/admin/cluster: this silo's part in cluster mode.</summary>
public sealed record ClusterStatusResponse(
    string Silo, IReadOnlyList<string> Roles, int Queues, IReadOnlyList<int> PulledQueues, IReadOnlyList<ClusterMember> Members,
    int ActiveUsers, long EventsCommitted, long MessagesPublished, bool DatabaseReachable, bool BrokerConnected);

/// <summary>A silo of the cluster as this silo's membership view has it.</summary>
public sealed record ClusterMember(string Name, string Address, string Status, string? Roles);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never, AllowDuplicateProperties = false)]
[JsonSerializable(typeof(RecommendationsResponse))]
[JsonSerializable(typeof(SimilarItemsResponse))]
[JsonSerializable(typeof(UserProfileResponse))]
[JsonSerializable(typeof(UserExportResponse))]
[JsonSerializable(typeof(UserErasedResponse))]
[JsonSerializable(typeof(EventsAcceptedResponse))]
[JsonSerializable(typeof(ItemsUpsertedResponse))]
[JsonSerializable(typeof(ModelLoadRequest))]
[JsonSerializable(typeof(ModelsResponse))]
[JsonSerializable(typeof(ClusterStatusResponse))]
[JsonSerializable(typeof(EventRequest[]))]
[JsonSerializable(typeof(ItemRequest[]))]
[JsonSerializable(typeof(List<EventRequest>))]
[JsonSerializable(typeof(List<ItemRequest>))]
public sealed partial class ApiJsonContext : JsonSerializerContext;
