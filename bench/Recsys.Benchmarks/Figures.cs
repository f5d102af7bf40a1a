using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Recsys.Domain.Catalogue;
using Recsys.Domain.Events;
using Recsys.Domain.Recommendation;
using Recsys.Domain.Users;
using Recsys.Model;
using Recsys.Model.Numerics;
using Recsys.Model.Serving;
using Recsys.Model.Training;
using Recsys.Silo;
using Recsys.Silo.Serving;
using Recsys.Silo.State;

namespace Recsys.Benchmarks;

/// <summary>
/// Figures that are not per-call timings (so not BenchmarkDotNet): memory per resident user, and exact top-10
/// latency over a generated catalogue of a million items across shards.
/// </summary>
internal static class Figures
{
    public static async Task<int> RunAsync(string[] args)
    {
        switch (args[0])
        {
            case "catalogue":
                // Matrix threads as the silo uses them (ModelServingOptions.MatrixThreads) unless told otherwise.
                (Gemm.Default as OpenBlasGemm)?.UseThreads(args.Length > 3 ? int.Parse(args[3]) : new ModelServingOptions().MatrixThreads);
                await LargeCatalogueAsync(args.Length > 1 ? int.Parse(args[1]) : 1_000_000, args.Length > 2 ? args[2].Split(',').Select(int.Parse).ToArray() : [1, 2, 4]);
                return 0;
            default:
                Console.Error.WriteLine("figures: catalogue [items] [shards,shards,...] [matrix-threads]");
                return 1;
        }
    }

    /// <summary>A random model over <paramref name="items"/> items (ids "i0".."iN-1"): serving cost does not depend on training.</summary>
    private static ModelCheckpoint RandomModel(int items, int dim = 64)
    {
        var encoder = new SequenceEncoder(new SequenceModelConfig { ItemCount = items + 1, Dim = dim, MaxLength = 50, Seed = 3 });
        var ids = new List<string>(items + 1) { "<unknown>" };
        ids.AddRange(Enumerable.Range(0, items).Select(static i => "i" + i));
        return new ModelCheckpoint(encoder, ids, new TrainingMetadata { Version = $"random-{items}" });
    }

    private static long Heap()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    /// <summary>
    /// Exact top-10 over <paramref name="items"/> generated items split into S shards, with the default filter
    /// (in stock, not seen): latency of one request at a time (p50, p99), and throughput with 64 requests in flight
    /// (the shards batch them into matrix products).
    /// </summary>
    private static async Task LargeCatalogueAsync(int items, int[] shardCounts)
    {
        var watch = Stopwatch.StartNew();
        var model = new ServingModel(RandomModel(items));
        var catalogue = new ItemCatalogue(new ItemRegistry());
        for (var i = 0; i < items; i++)
        {
            catalogue.Upsert(new CatalogueItem("i" + i, null, "c" + (i % 100), 10m + i % 50, i % 10 != 0));
        }
        Console.WriteLine($"{items:N0} items (64 floats each) generated in {watch.Elapsed.TotalSeconds:F1} s");
        var random = new Random(5);
        var queries = Enumerable.Range(0, 256).Select(_ => model.ItemVectors.Row(1 + random.Next(items)).ToArray()).ToArray();
        var filter = RecommendationFilter.Default.Compile(catalogue, UserSnapshot.Empty);
        int[][]? reference = null;
        foreach (var shards in shardCounts)
        {
            foreach (var precision in new[] { VectorPrecision.Full, VectorPrecision.Reduced })
            {
                await using var sharded = new ShardedCatalogue(catalogue, new CatalogueShardOptions { Shards = shards, Precision = precision });
                sharded.Load(model, catalogue.Items);
                var answers = new int[queries.Length][];
                for (var i = 0; i < queries.Length; i++)
                {
                    answers[i] = [.. (await sharded.TopKAsync(new ShardQuery(model, queries[i], 10, filter), default)).Select(static h => h.ItemIndex)];
                }
                reference ??= answers; // the first run (full precision) is the reference for every other
                var same = answers.Zip(reference).Count(static p => p.First.SequenceEqual(p.Second));
                var latencies = new List<double>();
                for (var i = 0; i < 200; i++)
                {
                    var started = Stopwatch.GetTimestamp();
                    await sharded.TopKAsync(new ShardQuery(model, queries[i % queries.Length], 10, filter), default);
                    latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
                latencies.Sort();
                var concurrent = Stopwatch.StartNew();
                var done = 0;
                await Parallel.ForEachAsync(Enumerable.Range(0, 2048), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, ct) =>
                {
                    await sharded.TopKAsync(new ShardQuery(model, queries[i % queries.Length], 10, filter), ct);
                    Interlocked.Increment(ref done);
                });
                Console.WriteLine($"{shards} shard(s), {precision} precision: one at a time p50 {latencies[latencies.Count / 2]:F2} ms, " +
                                  $"p99 {latencies[(int)(latencies.Count * 0.99)]:F2} ms; 64 in flight {done / concurrent.Elapsed.TotalSeconds:N0} top-10/s; " +
                                  $"top-10 identical to full precision for {same}/{queries.Length} queries");
            }
        }
    }
}
