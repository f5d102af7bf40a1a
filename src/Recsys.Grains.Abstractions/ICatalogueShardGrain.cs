namespace Recsys.Grains;

/// <summary>
/// One shard of the catalogue's item vectors (key: the shard index). Scores a query vector against its items with the
/// business filter applied inside and returns its own top-K; concurrent queries share one matrix product.
/// </summary>
public interface ICatalogueShardGrain : IGrainWithIntegerKey
{
    Task<ShardTopK> TopKAsync(ShardTopKRequest request);
}
