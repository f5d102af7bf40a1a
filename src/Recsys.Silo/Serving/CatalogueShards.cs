using System.Numerics;
using System.Numerics.Tensors;
using Recsys.Domain;
using Recsys.Domain.Catalogue;
using Recsys.Domain.Recommendation;
using Recsys.Domain.Users;
using Recsys.Model.Numerics;
using Recsys.Model.Serving;

namespace Recsys.Silo.Serving;

/// <summary>An item and its score from one shard.</summary>
public readonly record struct ShardHit(int ItemIndex, float Score);

/// <summary>
/// One top-K request to a shard: the query vector (an intent, or an item's vector for similar items), the model
/// whose item vectors to score, the business filter pushed down, and an item to leave out; <paramref name="ExcludedItems"/>
/// (sorted catalogue indexes) are left out too, for callers whose user lives in another silo.
/// </summary>
public sealed record ShardQuery(ServingModel Model, float[] Vector, int Count, CompiledFilter Filter, int ExcludeItem = -1,
    int[]? ExcludedItems = null);

/// <summary>A top-K over the whole catalogue: what a recommendation asks, before it fans out over the shards.</summary>
public sealed record CatalogueQuery(ServingModel Model, float[] Vector, int Count, RecommendationFilter Filter, UserSnapshot User,
    int ExcludeItem = -1);

/// <summary>Fans a query out over every catalogue shard and merges their lists: in this process, or over shard grains.</summary>
public interface ICatalogueSearch
{
    Task<ShardHit[]> TopKAsync(CatalogueQuery query, CancellationToken cancellationToken);
}

public sealed record CatalogueShardOptions
{
    /// <summary>How many shards the item table is split into (items go by a stable hash of their id).</summary>
    public int Shards { get; init; } = 2;

    /// <summary>Batching of concurrent requests per shard: one matrix product for many users.</summary>
    public MicroBatcherOptions Batching { get; init; } = new() { MaxBatchSize = 64, MaxDelay = TimeSpan.Zero };

    /// <summary>
    /// Reduced stores item vectors in 16-bit floats (half the memory and memory traffic) and widens each block
    /// before the matrix product; Full keeps them as trained. See bench/README.md for which is faster here.
    /// </summary>
    public VectorPrecision Precision { get; init; } = VectorPrecision.Full;
}

public enum VectorPrecision
{
    /// <summary>32-bit floats, as trained.</summary>
    Full,
    /// <summary>16-bit floats.</summary>
    Reduced,
}

/// <summary>One shard's rows of a model's item table (single or half precision), with the catalogue index of each row.</summary>
internal sealed class ShardSlice(ServingModel model, int[] catalogueIndexes, float[]? vectors, Half[]? halfVectors)
{
    public ServingModel Model { get; } = model;
    public int[] CatalogueIndexes { get; } = catalogueIndexes;
    public float[]? Vectors { get; } = vectors;
    public Half[]? HalfVectors { get; } = halfVectors;
    public int Count => CatalogueIndexes.Length;

    /// <summary>Rows [start, start + rows) as single floats: the stored ones, or widened into <paramref name="scratch"/>.</summary>
    public ReadOnlySpan<float> Block(int start, int rows, ref float[] scratch)
    {
        var dim = Model.Dim;
        if (Vectors is not null)
        {
            return Vectors.AsSpan(start * dim, rows * dim);
        }
        if (scratch.Length < rows * dim)
        {
            scratch = new float[rows * dim];
        }
        var block = scratch.AsSpan(0, rows * dim);
        TensorPrimitives.ConvertToSingle(HalfVectors.AsSpan(start * dim, rows * dim), block);
        return block;
    }
}

/// <summary>
/// A shard of the catalogue: exact top-K over its items for batches of queries, filters applied inside the
/// shard (so only passing items compete) and the scores computed as one matrix product per block of items.
/// </summary>
public sealed class CatalogueShard : IAsyncDisposable
{
    // Items scored per matrix product: the batch × block of scores (written by the product, then scanned) should
    // stay in the core's L2 cache, so big batches take smaller blocks.
    private const int ScoreScratchFloats = 64 * 1024;
    private const int MaxBlockRows = 8192;
    private readonly MicroBatcher<ShardQuery, ShardHit[]> _batcher;
    private volatile ShardSlice[] _slices = [];

    public CatalogueShard(MicroBatcherOptions batching) =>
        _batcher = new MicroBatcher<ShardQuery, ShardHit[]>(_ => new Scorer(this).Handle, batching);

    /// <summary>Items of <paramref name="model"/> in this shard (0 when the model is not loaded here).</summary>
    public int ItemCount(ServingModel model) => Find(model)?.Count ?? 0;

    public MicroBatcher<ShardQuery, ShardHit[]> Batcher => _batcher;

    internal void Add(ShardSlice slice) => _slices = [.. _slices.Where(s => s.Model != slice.Model), slice];

    internal void Remove(ServingModel model) => _slices = [.. _slices.Where(s => s.Model != model)];

    public ValueTask<ShardHit[]> TopKAsync(ShardQuery query, CancellationToken cancellationToken) =>
        _batcher.InvokeAsync(query, cancellationToken);

    public ValueTask DisposeAsync() => _batcher.DisposeAsync();

    private ShardSlice? Find(ServingModel model)
    {
        foreach (var slice in _slices)
        {
            if (slice.Model == model)
            {
                return slice;
            }
        }
        return null;
    }

    /// <summary>A worker's scoring state: scratch buffers reused across batches.</summary>
    private sealed class Scorer(CatalogueShard shard)
    {
        private float[] _queries = [];
        private float[] _scores = [];
        private float[] _widened = [];

        public void Handle(IReadOnlyList<ShardQuery> queries, ShardHit[][] results)
        {
            ByModel.ForEachGroup(queries, static q => q.Model, (_, group) => Score(queries, group, results));
        }

        private void Score(IReadOnlyList<ShardQuery> queries, List<int> group, ShardHit[][] results)
        {
            var slice = shard.Find(queries[group[0]].Model);
            if (slice is null || slice.Count == 0)
            {
                foreach (var i in group)
                {
                    results[i] = [];
                }
                return;
            }
            var dim = slice.Model.Dim;
            var rows = group.Count;
            if (_queries.Length < rows * dim)
            {
                _queries = new float[rows * dim];
            }
            var blockRows = Math.Clamp(ScoreScratchFloats / rows, 256, MaxBlockRows);
            if (_scores.Length < rows * blockRows)
            {
                _scores = new float[rows * blockRows];
            }
            var heaps = new TopK[rows];
            for (var r = 0; r < rows; r++)
            {
                var query = queries[group[r]];
                query.Vector.AsSpan(0, dim).CopyTo(_queries.AsSpan(r * dim, dim));
                heaps[r] = new TopK(query.Count);
            }
            for (var start = 0; start < slice.Count; start += blockRows)
            {
                var block = Math.Min(blockRows, slice.Count - start);
                Gemm.Default.Multiply(false, true, rows, block, dim, 1f, _queries.AsSpan(0, rows * dim), dim,
                    slice.Block(start, block, ref _widened), dim, 0f, _scores.AsSpan(0, rows * block), block);
                for (var r = 0; r < rows; r++)
                {
                    var query = queries[group[r]];
                    if (query.Filter.MatchesNothing)
                    {
                        continue;
                    }
                    var heap = heaps[r];
                    var scores = _scores.AsSpan(r * block, block);
                    // The threshold test first, a vector of scores at a time: most items lose to the current k-th
                    // best, so whole vectors are skipped before any per-item work or filter runs.
                    var width = Vector<float>.Count;
                    var j = 0;
                    for (; j <= block - width; j += width)
                    {
                        if (Vector.GreaterThanAny(new Vector<float>(scores.Slice(j, width)), new Vector<float>(heap.Threshold)))
                        {
                            Consider(slice, query, heap, scores, start, j, j + width);
                        }
                    }
                    Consider(slice, query, heap, scores, start, j, block);
                }
            }
            for (var r = 0; r < rows; r++)
            {
                results[group[r]] = heaps[r].ToSortedArray();
            }
        }

        /// <summary>Offers items [from, to) of a block to the heap: the threshold test, then the exclusions and the filter.</summary>
        private static void Consider(ShardSlice slice, ShardQuery query, TopK heap, ReadOnlySpan<float> scores, int start, int from, int to)
        {
            for (var j = from; j < to; j++)
            {
                if (!heap.WouldAccept(scores[j]))
                {
                    continue;
                }
                var item = slice.CatalogueIndexes[start + j];
                if (item == query.ExcludeItem || query.Filter.Accept(item) is null ||
                    (query.ExcludedItems is { } excluded && Array.BinarySearch(excluded, item) >= 0))
                {
                    continue;
                }
                heap.Add(item, scores[j]);
            }
        }
    }
}

/// <summary>The k best (item, score) pairs seen so far: a min-heap on score, the worst at the root.</summary>
public sealed class TopK(int k)
{
    private readonly ShardHit[] _heap = new ShardHit[Math.Max(0, k)];
    private int _count;

    public bool WouldAccept(float score) => _heap.Length > 0 && (_count < _heap.Length || score > _heap[0].Score);

    /// <summary>A score must beat this to get in: the k-th best once full; below every score until then.</summary>
    public float Threshold => _heap.Length == 0 ? float.PositiveInfinity : _count < _heap.Length ? float.NegativeInfinity : _heap[0].Score;

    public void Add(int item, float score)
    {
        if (_count < _heap.Length)
        {
            _heap[_count] = new ShardHit(item, score);
            SiftUp(_count++);
        }
        else if (score > _heap[0].Score)
        {
            _heap[0] = new ShardHit(item, score);
            SiftDown(0);
        }
    }

    /// <summary>Best first; equal scores by item index, so results do not depend on scan order.</summary>
    public ShardHit[] ToSortedArray()
    {
        var result = _heap.AsSpan(0, _count).ToArray();
        Array.Sort(result, static (a, b) => b.Score != a.Score ? b.Score.CompareTo(a.Score) : a.ItemIndex.CompareTo(b.ItemIndex));
        return result;
    }

    private void SiftUp(int i)
    {
        while (i > 0)
        {
            var parent = (i - 1) / 2;
            if (_heap[parent].Score <= _heap[i].Score)
            {
                return;
            }
            (_heap[parent], _heap[i]) = (_heap[i], _heap[parent]);
            i = parent;
        }
    }

    private void SiftDown(int i)
    {
        while (true)
        {
            var smallest = i;
            var left = 2 * i + 1;
            var right = left + 1;
            if (left < _count && _heap[left].Score < _heap[smallest].Score)
            {
                smallest = left;
            }
            if (right < _count && _heap[right].Score < _heap[smallest].Score)
            {
                smallest = right;
            }
            if (smallest == i)
            {
                return;
            }
            (_heap[smallest], _heap[i]) = (_heap[i], _heap[smallest]);
            i = smallest;
        }
    }
}

/// <summary>
/// The item table split over shards. Loading a model builds every shard's slice before any query may use it,
/// so a hot swap never sees a half-built table; queries fan out to all shards and the lists merge.
/// </summary>
public sealed class ShardedCatalogue : ICatalogueSearch, IAsyncDisposable
{
    private readonly ItemCatalogue _catalogue;
    private readonly CatalogueShard[] _shards;
    private readonly VectorPrecision _precision;
    // Per loaded model, its row of each catalogue index (0: unknown to the model); replaced whole on load/unload.
    private volatile Dictionary<ServingModel, int[]> _rows = [];
    // Per loaded model, the catalogue index of each of its rows (row 0, the unknown item: 0 too).
    private volatile Dictionary<ServingModel, int[]> _catalogueIndexes = [];

    public ShardedCatalogue(ItemCatalogue catalogue, CatalogueShardOptions options)
    {
        _catalogue = catalogue;
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Shards, 1);
        _precision = options.Precision;
        _shards = Enumerable.Range(0, options.Shards).Select(_ => new CatalogueShard(options.Batching)).ToArray();
    }

    public IReadOnlyList<CatalogueShard> Shards => _shards;

    /// <summary>The model's row for a catalogue item (0 when the model does not know it), without hashing its id.</summary>
    public int RowOf(ServingModel model, int catalogueIndex) =>
        _rows.TryGetValue(model, out var rows) && (uint)catalogueIndex < (uint)rows.Length ? rows[catalogueIndex] : 0;

    /// <summary>The catalogue index of a model row; -1 when the model is not loaded here or the row is out of range.</summary>
    public int CatalogueIndexOf(ServingModel model, int row) =>
        _catalogueIndexes.TryGetValue(model, out var indexes) && row > 0 && row < indexes.Length ? indexes[row] : -1;

    /// <summary>The shard an item lives in: a stable hash of its external id, the same in every process.</summary>
    public int ShardOf(string itemId) => (int)(Identifier.StableHash64(itemId) % (ulong)_shards.Length);

    /// <summary>Splits <paramref name="model"/>'s item vectors over the shards; items get catalogue indexes from <paramref name="items"/>.</summary>
    public void Load(ServingModel model, ItemRegistry items)
    {
        var dim = model.Dim;
        var members = new List<int>[_shards.Length];
        for (var s = 0; s < members.Length; s++)
        {
            members[s] = [];
        }
        // Each model row's catalogue index, registered once; the reverse map serves lookups by catalogue index.
        var catalogueIndexOfRow = new int[model.ItemIds.Count];
        for (var row = 1; row < model.ItemIds.Count; row++)
        {
            catalogueIndexOfRow[row] = items.GetOrAdd(model.ItemIds[row]);
            members[ShardOf(model.ItemIds[row])].Add(row);
        }
        var rowsByCatalogueIndex = new int[items.Count];
        for (var row = 1; row < catalogueIndexOfRow.Length; row++)
        {
            rowsByCatalogueIndex[catalogueIndexOfRow[row]] = row;
        }
        var table = model.ItemVectors;
        for (var s = 0; s < _shards.Length; s++)
        {
            var rows = members[s];
            var indexes = new int[rows.Count];
            var vectors = _precision == VectorPrecision.Full ? new float[rows.Count * dim] : null;
            var halfVectors = _precision == VectorPrecision.Reduced ? new Half[rows.Count * dim] : null;
            for (var r = 0; r < rows.Count; r++)
            {
                indexes[r] = catalogueIndexOfRow[rows[r]];
                if (vectors is not null)
                {
                    table.Row(rows[r]).CopyTo(vectors.AsSpan(r * dim, dim));
                }
                else
                {
                    TensorPrimitives.ConvertToHalf(table.Row(rows[r]), halfVectors.AsSpan(r * dim, dim));
                }
            }
            _shards[s].Add(new ShardSlice(model, indexes, vectors, halfVectors));
        }
        _rows = new Dictionary<ServingModel, int[]>(_rows) { [model] = rowsByCatalogueIndex };
        _catalogueIndexes = new Dictionary<ServingModel, int[]>(_catalogueIndexes) { [model] = catalogueIndexOfRow };
    }

    public void Unload(ServingModel model)
    {
        var rows = new Dictionary<ServingModel, int[]>(_rows);
        rows.Remove(model);
        _rows = rows;
        var indexes = new Dictionary<ServingModel, int[]>(_catalogueIndexes);
        indexes.Remove(model);
        _catalogueIndexes = indexes;
        foreach (var shard in _shards)
        {
            shard.Remove(model);
        }
    }

    /// <summary>The query against this silo's shards, with the filter bound to this silo's catalogue and the user.</summary>
    public Task<ShardHit[]> TopKAsync(CatalogueQuery query, CancellationToken cancellationToken) =>
        TopKAsync(new ShardQuery(query.Model, query.Vector, query.Count, query.Filter.Compile(_catalogue, query.User), query.ExcludeItem),
            cancellationToken);

    /// <summary>Exact top-<paramref name="count"/> over every shard: each returns its own best, the merge keeps the overall best.</summary>
    public async Task<ShardHit[]> TopKAsync(ShardQuery query, CancellationToken cancellationToken)
    {
        var calls = new Task<ShardHit[]>[_shards.Length];
        var parent = System.Diagnostics.Activity.Current;
        for (var s = 0; s < _shards.Length; s++)
        {
            // One span per fan-out call; each starts under the caller's span, not under the previous shard's.
            var span = SiloTelemetry.Source.StartActivity("shard.topk");
            span?.SetTag("recsys.shard", s);
            calls[s] = span is null ? _shards[s].TopKAsync(query, cancellationToken).AsTask() : Traced(_shards[s].TopKAsync(query, cancellationToken), span);
            System.Diagnostics.Activity.Current = parent;
        }
        var merged = new TopK(query.Count);
        foreach (var hits in await Task.WhenAll(calls))
        {
            foreach (var hit in hits)
            {
                merged.Add(hit.ItemIndex, hit.Score);
            }
        }
        return merged.ToSortedArray();
    }

    private static async Task<ShardHit[]> Traced(ValueTask<ShardHit[]> call, System.Diagnostics.Activity span)
    {
        try
        {
            var hits = await call;
            span.SetTag("recsys.hits", hits.Length);
            return hits;
        }
        finally
        {
            span.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var shard in _shards)
        {
            await shard.DisposeAsync();
        }
    }
}
