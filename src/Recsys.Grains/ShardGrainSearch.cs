using Recsys.Silo;
using Recsys.Silo.Serving;

namespace Recsys.Grains;

/// <summary>Fans a catalogue query out to every shard grain and merges their lists into the overall top-K.</summary>
public sealed class ShardGrainSearch(GrainReferences grains, SiloServices services) : ICatalogueSearch
{
    public async Task<ShardHit[]> TopKAsync(CatalogueQuery query, CancellationToken cancellationToken)
    {
        var model = query.Model;
        var shards = services.Serving.Shards;
        var request = new ShardTopKRequest(model.Version, query.Vector, query.Count, query.Filter, ExcludedRows(query));
        var calls = new Task<ShardTopK>[shards.Shards.Count];
        var parent = System.Diagnostics.Activity.Current;
        for (var s = 0; s < calls.Length; s++)
        {
            // One span per fan-out call; each starts under the caller's span, not under the previous shard's.
            var span = SiloTelemetry.Source.StartActivity("shard.topk");
            span?.SetTag("recsys.shard", s);
            var call = grains.Shard(s).TopKAsync(request);
            calls[s] = span is null ? call : Traced(call, span);
            System.Diagnostics.Activity.Current = parent;
        }
        var merged = new TopK(query.Count);
        foreach (var answer in await Task.WhenAll(calls))
        {
            for (var i = 0; i < answer.Rows.Length; i++)
            {
                if (shards.CatalogueIndexOf(model, answer.Rows[i]) is var item and >= 0)
                {
                    merged.Add(item, answer.Scores[i]);
                }
            }
        }
        return merged.ToSortedArray();
    }

    private static async Task<ShardTopK> Traced(Task<ShardTopK> call, System.Diagnostics.Activity span)
    {
        try
        {
            var answer = await call;
            span.SetTag("recsys.hits", answer.Rows.Length);
            return answer;
        }
        finally
        {
            span.Dispose();
        }
    }

    /// <summary>The model rows to leave out: the item itself (similar items) and, unless seen items may come back, the user's.</summary>
    private int[] ExcludedRows(CatalogueQuery query)
    {
        var shards = services.Serving.Shards;
        var rows = new List<int>(1 + (query.Filter.IncludeSeen ? 0 : query.User.SeenSorted.Length));
        if (query.ExcludeItem >= 0 && shards.RowOf(query.Model, query.ExcludeItem) is var own and > 0)
        {
            rows.Add(own);
        }
        if (!query.Filter.IncludeSeen)
        {
            foreach (var item in query.User.SeenSorted)
            {
                if (shards.RowOf(query.Model, item) is var row and > 0)
                {
                    rows.Add(row);
                }
            }
        }
        rows.Sort();
        return [.. rows];
    }
}
