using Recsys.Domain.Catalogue;

namespace Recsys.Grains;

/// <summary>Where item upserts go: this silo's catalogue (embedded), or also a store every silo follows (cluster mode).</summary>
public interface ICatalogueWriter
{
    Task<int> UpsertAsync(IReadOnlyList<CatalogueItem> items, CancellationToken cancellationToken);
}

/// <summary>The embedded default: the one silo's catalogue.</summary>
public sealed class LocalCatalogueWriter(Silo.SiloServices services) : ICatalogueWriter
{
    public Task<int> UpsertAsync(IReadOnlyList<CatalogueItem> items, CancellationToken cancellationToken)
    {
        foreach (var item in items)
        {
            services.Catalogue.Upsert(item);
        }
        return Task.FromResult(items.Count);
    }
}
