using Recsys.Domain.Catalogue;
using Recsys.Domain.Events;
using Recsys.Domain.Recommendation;
using Recsys.Domain.Users;
using Recsys.Model;
using Recsys.Model.Serving;
using Recsys.Silo.Serving;

namespace Recsys.Silo.UnitTests;

public class CatalogueShardTests
{
    /// <summary>A random model over <paramref name="items"/> items, served.</summary>
    internal static ServingModel RandomModel(int items, int dim = 16, int seed = 7, string version = "m1")
    {
        var config = new SequenceModelConfig { ItemCount = items + 1, Dim = dim, Blocks = 1, MaxLength = 20, Seed = seed };
        var ids = new[] { "<unknown>" }.Concat(Enumerable.Range(0, items).Select(i => $"item-{i}")).ToArray();
        return new ServingModel(new ModelCheckpoint(new SequenceEncoder(config), ids, new TrainingMetadata { Version = version }));
    }

    private static ItemCatalogue Catalogue(int items)
    {
        var catalogue = new ItemCatalogue(new ItemRegistry());
        for (var i = 0; i < items; i++)
        {
            catalogue.Upsert(new CatalogueItem($"item-{i}", null, i % 3 == 0 ? "games" : "books", 5 + i % 50, InStock: i % 7 != 0));
        }
        return catalogue;
    }

    private static UserSnapshot UserWhoSaw(ItemCatalogue catalogue, params int[] items)
    {
        var state = new UserState("u1", new UserStateOptions());
        var time = DateTimeOffset.UnixEpoch.AddDays(20_000);
        foreach (var item in items)
        {
            var id = $"item-{item}";
            state.Apply(new BehaviourEvent($"e{item}", "u1", id, BehaviourType.View, time, null), catalogue.Items.GetOrAdd(id), time.ToUnixTimeMilliseconds());
            time = time.AddMinutes(1);
        }
        return state.Snapshot();
    }

    /// <summary>An item vector as the shard stores it: reduced precision rounds each weight to the nearest 16-bit float.</summary>
    private static float[] Stored(ReadOnlySpan<float> row, VectorPrecision precision) =>
        precision == VectorPrecision.Full ? row.ToArray() : [.. row.ToArray().Select(static w => (float)(Half)w)];

    [Theory]
    [InlineData(1, VectorPrecision.Full)]
    [InlineData(3, VectorPrecision.Full)]
    [InlineData(5, VectorPrecision.Full)]
    [InlineData(3, VectorPrecision.Reduced)]
    public async Task Fanned_out_top_k_with_filters_equals_a_brute_force_scan(int shards, VectorPrecision precision)
    {
        const int items = 2_000;
        var model = RandomModel(items);
        var catalogue = Catalogue(items);
        await using var sharded = new ShardedCatalogue(catalogue, new CatalogueShardOptions { Shards = shards, Precision = precision });
        sharded.Load(model, catalogue.Items);
        Assert.Equal(items, sharded.Shards.Sum(s => s.ItemCount(model)));
        var user = UserWhoSaw(catalogue, 1, 2, 3, 10, 11);
        var random = new Random(3);
        var filters = new[]
        {
            new RecommendationFilter(),
            new RecommendationFilter { Category = "games", MinPrice = 10, MaxPrice = 30 },
            new RecommendationFilter { InStockOnly = false, IncludeSeen = true },
        };
        foreach (var filter in filters)
        {
            var compiled = filter.Compile(catalogue, user);
            var vector = Enumerable.Range(0, model.Dim).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
            var served = await sharded.TopKAsync(new ShardQuery(model, vector, 25, compiled, ExcludeItem: catalogue.Items.GetOrAdd("item-5")), CancellationToken.None);

            var oracle = Enumerable.Range(1, items)
                .Select(i => (Index: catalogue.Items.GetOrAdd(model.ItemIds[i]), Score: Dot(vector, Stored(model.ItemVectors.Row(i), precision))))
                .Where(x => x.Index != catalogue.Items.GetOrAdd("item-5") && compiled.Accept(x.Index) is not null)
                .OrderByDescending(x => x.Score).Take(25).ToArray();
            Assert.Equal(oracle.Select(x => x.Index), served.Select(h => h.ItemIndex));
            Assert.All(served.Zip(oracle), p => Assert.Equal(p.Second.Score, p.First.Score, 4));
            foreach (var hit in served)
            {
                var entry = catalogue.Get(hit.ItemIndex)!;
                Assert.True(filter.IncludeSeen || !user.HasSeen(hit.ItemIndex), "a seen item got through");
                Assert.True(!filter.InStockOnly || entry.Item.InStock, "an out-of-stock item got through");
            }
        }
    }

    [Fact]
    public async Task Concurrent_queries_are_batched_and_each_gets_its_own_answer()
    {
        var model = RandomModel(500);
        var catalogue = Catalogue(500);
        await using var sharded = new ShardedCatalogue(catalogue, new CatalogueShardOptions
        {
            Shards = 2,
            Batching = new MicroBatcherOptions { MaxBatchSize = 32, MaxDelay = TimeSpan.FromMilliseconds(2) },
        });
        sharded.Load(model, catalogue.Items);
        var user = UserWhoSaw(catalogue);
        var compiled = new RecommendationFilter { InStockOnly = false }.Compile(catalogue, user);
        // Each query is an item's own vector, whose best match (by far, for a random table) is mostly itself.
        var queries = Enumerable.Range(1, 64).Select(i => model.ItemVectors.Row(i).ToArray()).ToArray();
        var answers = await Task.WhenAll(queries.Select(q => sharded.TopKAsync(new ShardQuery(model, q, 5, compiled), CancellationToken.None)));
        for (var i = 0; i < queries.Length; i++)
        {
            var alone = await sharded.TopKAsync(new ShardQuery(model, queries[i], 5, compiled), CancellationToken.None);
            Assert.Equal(alone.Select(h => h.ItemIndex), answers[i].Select(h => h.ItemIndex));
        }
        var shard = sharded.Shards[0].Batcher;
        Assert.True(shard.RequestsServed > shard.BatchesServed, $"{shard.RequestsServed} requests in {shard.BatchesServed} batches: nothing was batched");
    }

    [Fact]
    public void Top_k_keeps_the_best_in_order()
    {
        var random = new Random(1);
        var scores = Enumerable.Range(0, 1000).Select(_ => (float)random.NextDouble()).ToArray();
        var top = new TopK(10);
        for (var i = 0; i < scores.Length; i++)
        {
            top.Add(i, scores[i]);
        }
        var expected = scores.Select((s, i) => (s, i)).OrderByDescending(x => x.s).Take(10).Select(x => x.i);
        Assert.Equal(expected, top.ToSortedArray().Select(h => h.ItemIndex));
        Assert.Empty(new TopK(0).ToSortedArray());
    }

    private static float Dot(float[] a, ReadOnlySpan<float> b)
    {
        var sum = 0f;
        for (var i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }
        return sum;
    }
}
