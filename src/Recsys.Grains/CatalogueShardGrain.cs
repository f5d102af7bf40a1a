using Orleans.Concurrency;
using Recsys.Domain.Users;
using Recsys.Silo;
using Recsys.Silo.Serving;

namespace Recsys.Grains;

/// <summary>
/// One catalogue shard on a worker silo, thin over that silo's <see cref="CatalogueShard"/>: reentrant, so concurrent
/// queries reach the shard's batcher together and share one matrix product. Rows cross the call, catalogue indexes
/// (which are per silo) do not.
/// </summary>
[Reentrant]
[PlaceOnRole(SiloRoles.Worker)]
public sealed class CatalogueShardGrain(SiloServices services) : Grain, ICatalogueShardGrain
{
    public async Task<ShardTopK> TopKAsync(ShardTopKRequest request)
    {
        var serving = services.Serving;
        var shards = serving.Shards;
        var index = (int)this.GetPrimaryKeyLong();
        if (serving.Find(request.ModelVersion) is not { } model || index >= shards.Shards.Count)
        {
            return new ShardTopK([], []);
        }
        var excluded = new List<int>(request.ExcludedRows.Length);
        foreach (var row in request.ExcludedRows)
        {
            if (shards.CatalogueIndexOf(model, row) is var item and >= 0)
            {
                excluded.Add(item);
            }
        }
        excluded.Sort();
        // The seen-items rule arrived as excluded rows; the rest of the filter binds to this silo's catalogue.
        var filter = (request.Filter.IncludeSeen ? request.Filter : request.Filter with { IncludeSeen = true })
            .Compile(services.Catalogue, UserSnapshot.Empty);
        var hits = await shards.Shards[index].TopKAsync(
            new ShardQuery(model, request.Vector, request.Count, filter, ExcludedItems: [.. excluded]), CancellationToken.None);
        var rows = new int[hits.Length];
        var scores = new float[hits.Length];
        for (var i = 0; i < hits.Length; i++)
        {
            rows[i] = shards.RowOf(model, hits[i].ItemIndex);
            scores[i] = hits[i].Score;
        }
        return new ShardTopK(rows, scores);
    }
}
