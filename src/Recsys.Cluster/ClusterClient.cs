using System.Text.Json;
using Recsys.Contracts;
using Recsys.Domain.Catalogue;
using Recsys.Domain.Events;
using Recsys.Domain.Recommendation;
using Recsys.Silo;
using Recsys.Silo.Serving;

namespace Recsys.Cluster;

/// <summary>
/// The gateway's view of the cluster in cluster mode: events go to the stream (202 once the broker confirmed them,
/// deduplicated when a worker applies them), catalogue changes to PostgreSQL for every process to pick up, and reads
/// run on this process's catalogue, rankings and models over the user state committed in PostgreSQL.
/// </summary>
public sealed class ClusterClient(EmbeddedCluster local, EventPublisher publisher, PostgresStateStore store, ClusterOptions options) : IFrontend
{
    public async Task<IngestResult> IngestAsync(IReadOnlyList<BehaviourEvent> events, CancellationToken cancellationToken)
    {
        await publisher.PublishAsync(events, cancellationToken);
        local.ObservePublished(events, recordTrending: !options.RunsWorker);
        return new IngestResult(events.Count, 0); // replays are recognised when applied, after this answer
    }

    public async Task<int> UpsertItemsAsync(IReadOnlyList<CatalogueItem> items, CancellationToken cancellationToken)
    {
        await store.UpsertItemsAsync(items.Select(static item => (item.ItemId, CatalogueSync.Encode(item))).ToArray(), cancellationToken);
        return await local.UpsertItemsAsync(items, cancellationToken);
    }

    public Task<RecommendationsResponse> RecommendAsync(string userId, int count, RecommendationFilter filter, CancellationToken cancellationToken) =>
        local.RecommendAsync(userId, count, filter, cancellationToken);

    public Task<SimilarItemsResponse?> SimilarAsync(string itemId, int count, RecommendationFilter filter, CancellationToken cancellationToken) =>
        local.SimilarAsync(itemId, count, filter, cancellationToken);

    public Task<UserProfileResponse> GetUserAsync(string userId, int recentLimit, CancellationToken cancellationToken) =>
        local.GetUserAsync(userId, recentLimit, cancellationToken);

    public Task<ModelsResponse> GetModelsAsync(CancellationToken cancellationToken) => local.GetModelsAsync(cancellationToken);

    public Task<ModelsResponse> LoadModelAsync(string path, ModelRole role, double share, CancellationToken cancellationToken) =>
        local.LoadModelAsync(path, role, share, cancellationToken);

    public Task<bool> EndCandidateAsync(bool promote, CancellationToken cancellationToken) => local.EndCandidateAsync(promote, cancellationToken);
}

/// <summary>Keeps this process's catalogue in step with the items any gateway stored in PostgreSQL.</summary>
public sealed class CatalogueSync(PostgresStateStore store, EmbeddedCluster local)
{
    private long _revision;

    public static byte[] Encode(CatalogueItem item) => JsonSerializer.SerializeToUtf8Bytes(item, ClusterJsonContext.Default.CatalogueItem);

    /// <summary>Applies items stored since the last call; returns how many.</summary>
    public async Task<int> RefreshAsync(CancellationToken cancellationToken)
    {
        var total = 0;
        while (true)
        {
            var rows = await store.ReadItemsSinceAsync(_revision, cancellationToken);
            if (rows.Count == 0)
            {
                return total;
            }
            var items = rows.Select(static row => JsonSerializer.Deserialize(row.Data, ClusterJsonContext.Default.CatalogueItem)!).ToArray();
            await local.UpsertItemsAsync(items, cancellationToken);
            _revision = rows[^1].Revision;
            total += items.Length;
        }
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(CatalogueItem))]
internal sealed partial class ClusterJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
