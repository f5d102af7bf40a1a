using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Recsys.Domain.Catalogue;
using Recsys.Grains;
using Recsys.Silo;

namespace Recsys.Cluster;

/// <summary>
/// Cluster mode's catalogue: a gateway stores upserted items in PostgreSQL and applies them locally; every silo
/// follows the table by revision, so shard grains and fallbacks everywhere see the same items within the refresh
/// interval.
/// </summary>
public sealed class CatalogueSync(PostgresStateStore store, SiloServices services, ClusterModeOptions options, ILogger<CatalogueSync> logger)
    : BackgroundService, ICatalogueWriter
{
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private long _revision;

    public async Task<int> UpsertAsync(IReadOnlyList<CatalogueItem> items, CancellationToken cancellationToken)
    {
        await store.UpsertItemsAsync(items.Select(static item => (item.ItemId, Encode(item))).ToArray(), cancellationToken);
        foreach (var item in items)
        {
            services.Catalogue.Upsert(item);
        }
        return items.Count;
    }

    /// <summary>Applies items stored since the last call; returns how many.</summary>
    public async Task<int> RefreshAsync(CancellationToken cancellationToken)
    {
        await _refreshing.WaitAsync(cancellationToken);
        try
        {
            var total = 0;
            while (true)
            {
                var rows = await store.ReadItemsSinceAsync(_revision, cancellationToken);
                if (rows.Count == 0)
                {
                    return total;
                }
                foreach (var row in rows)
                {
                    services.Catalogue.Upsert(JsonSerializer.Deserialize(row.Data, ClusterJsonContext.Default.CatalogueItem)!);
                }
                _revision = rows[^1].Revision;
                total += rows.Count;
            }
        }
        finally
        {
            _refreshing.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.CatalogueRefreshInterval);
        do
        {
            try
            {
                var applied = await RefreshAsync(stoppingToken);
                if (applied > 0)
                {
                    logger.LogDebug("Catalogue: {Items} items applied from the database", applied);
                }
            }
            catch (ServiceUnavailableException)
            {
                // readiness shows the outage; the next tick tries again
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private static byte[] Encode(CatalogueItem item) => JsonSerializer.SerializeToUtf8Bytes(item, ClusterJsonContext.Default.CatalogueItem);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(CatalogueItem))]
internal sealed partial class ClusterJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
