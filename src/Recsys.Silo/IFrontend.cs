using Recsys.Contracts;
using Recsys.Domain.Catalogue;
using Recsys.Domain.Events;
using Recsys.Domain.Recommendation;

namespace Recsys.Silo;

/// <summary>How many events of a batch changed state, and how many were replays.</summary>
public sealed record IngestResult(int Accepted, int Duplicates);

/// <summary>
/// The HTTP API's view of the cluster (implemented over the grains). Everything crossing it uses external ids, never
/// local indexes.
/// </summary>
public interface IFrontend
{
    Task<IngestResult> IngestAsync(IReadOnlyList<BehaviourEvent> events, CancellationToken cancellationToken);

    Task<int> UpsertItemsAsync(IReadOnlyList<CatalogueItem> items, CancellationToken cancellationToken);

    Task<RecommendationsResponse> RecommendAsync(string userId, int count, RecommendationFilter filter, CancellationToken cancellationToken);

    /// <summary>Null when nothing is known about the item (neither catalogue nor events).</summary>
    Task<SimilarItemsResponse?> SimilarAsync(string itemId, int count, RecommendationFilter filter, CancellationToken cancellationToken);

    Task<UserProfileResponse> GetUserAsync(string userId, int recentLimit, CancellationToken cancellationToken);

    Task<UserExportResponse> ExportUserAsync(string userId, CancellationToken cancellationToken);

    Task<UserErasedResponse> EraseUserAsync(string userId, CancellationToken cancellationToken);

    /// <summary>The loaded models and the feedback per model version.</summary>
    Task<ModelsResponse> GetModelsAsync(CancellationToken cancellationToken);

    /// <summary>Loads a checkpoint as primary (hot swap) or as an A/B candidate; see <see cref="Serving.ModelServing.LoadAsync"/> for the errors.</summary>
    Task<ModelsResponse> LoadModelAsync(string path, Serving.ModelRole role, double share, CancellationToken cancellationToken);

    /// <summary>Ends the A/B test (promoting or dropping the candidate); false when there is none.</summary>
    Task<bool> EndCandidateAsync(bool promote, CancellationToken cancellationToken);
}

/// <summary>A dependency (the event stream, the state database) cannot take the request now; the client may retry.</summary>
public sealed class ServiceUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Whether the silo may take traffic, and why not when it may not.</summary>
public sealed class SiloReadiness
{
    private volatile string? _notReadyReason = "starting";

    public bool IsReady => _notReadyReason is null;

    public string? NotReadyReason => _notReadyReason;

    public void NotReady(string reason) => _notReadyReason = reason;

    public void Ready() => _notReadyReason = null;
}
