using System.Buffers;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Recsys.Contracts;
using Recsys.Domain.Events;
using Recsys.Domain.Recommendation;
using Recsys.Domain.Simulation;
using Recsys.Domain.Users;
using Recsys.Silo;
using Recsys.Silo.State;

namespace Recsys.Benchmarks;

/// <summary>
/// The per-request work of the embedded default on the demo shop (1,000 shoppers, 60,000 events):
/// computing one user's recommendations, the whole in-process request path, and reading an event batch.
/// </summary>
[MemoryDiagnoser]
public class ServingBenchmarks
{
    private EmbeddedCluster _cluster = null!;
    private FallbackRecommender _recommender = null!;
    private UserSnapshot _user = null!;
    private byte[] _eventBatch = null!;
    private readonly EventValidator _validator = new();
    private int _next;

    /// <summary>0: scoring on the caller's thread; 2: a pool of two stateless workers (one per core here).</summary>
    [Params(0, 2)]
    public int RecommendationWorkers { get; set; }

    [GlobalSetup]
    public async Task SetUp()
    {
        _cluster = new EmbeddedCluster(new SiloOptions { RecommendationWorkers = RecommendationWorkers }, new InMemoryStateStore(), TimeProvider.System, NullLoggerFactory.Instance);
        var shop = new SyntheticShop(new ShopOptions());
        await _cluster.UpsertItemsAsync(shop.Items, CancellationToken.None);
        var history = shop.History(60_000, DateTimeOffset.UtcNow.AddMinutes(-1), TimeSpan.FromDays(7));
        foreach (var chunk in history.Chunk(1000))
        {
            await _cluster.IngestAsync(chunk, CancellationToken.None);
        }
        _recommender = new FallbackRecommender(_cluster.Catalogue, _cluster.Services.Trending, _cluster.Services.CoOccurrence, new FallbackRecommenderOptions());
        _user = await _cluster.Users.AskAsync(SyntheticShop.UserId(7), 0, static (actor, _) => actor.Snapshot());
        var events = history.Take(100).Select(e => new EventRequest(e.EventId, e.UserId, e.ItemId, e.Type.ToWireName(), e.Timestamp, e.Query)).ToList();
        _eventBatch = JsonSerializer.SerializeToUtf8Bytes(events, ApiJsonContext.Default.ListEventRequest);
    }

    [GlobalCleanup]
    public async Task CleanUp() => await _cluster.DisposeAsync();

    [Benchmark(Description = "Recommend k=10 (domain only)")]
    public int Recommend() => _recommender.Recommend(_user, 10, RecommendationFilter.Default).Count;

    [Benchmark(Description = "RecommendAsync k=10 (actor snapshot, scoring, reasons)")]
    public async Task<int> RecommendThroughCluster()
    {
        var user = SyntheticShop.UserId(_next++ % 1000);
        return (await _cluster.RecommendAsync(user, 10, RecommendationFilter.Default, CancellationToken.None)).Items.Count;
    }

    [Benchmark(Description = "Read + validate a batch of 100 events")]
    public int ReadEventBatch()
    {
        var errors = new List<FieldError>();
        var inputs = BatchReader.ReadEvents(new ReadOnlySequence<byte>(_eventBatch), 1000, errors);
        var valid = 0;
        for (var i = 0; i < inputs.Count; i++)
        {
            valid += _validator.TryValidate(inputs[i]!, "", out _, errors) ? 1 : 0;
        }
        return valid;
    }
}
