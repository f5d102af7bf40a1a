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
    private FallbackRecommender _recommender = null!;
    private UserSnapshot _user = null!;
    private byte[] _eventBatch = null!;
    private readonly EventValidator _validator = new();

    [GlobalSetup]
    public void SetUp()
    {
        var services = SiloServices.Create(new SiloOptions(), TimeProvider.System);
        var shop = new SyntheticShop(new ShopOptions());
        foreach (var item in shop.Items)
        {
            services.Catalogue.Upsert(item);
        }
        var history = shop.History(60_000, DateTimeOffset.UtcNow.AddMinutes(-1), TimeSpan.FromDays(7));
        var user = new UserState(SyntheticShop.UserId(7), services.UserOptions);
        foreach (var e in history)
        {
            var itemIndex = e.ItemId is null ? -1 : services.Catalogue.Items.GetOrAdd(e.ItemId);
            if (itemIndex >= 0)
            {
                var behaviour = new BehaviourRecord(itemIndex, e.Type, e.Timestamp.ToUnixTimeMilliseconds());
                services.Trending.Record(itemIndex, e.Type, behaviour.TimestampMs);
            }
            if (e.UserId == user.UserId)
            {
                user.Apply(e, itemIndex, e.Timestamp.ToUnixTimeMilliseconds());
            }
        }
        _recommender = services.Recommender;
        _user = user.Snapshot();
        var events = history.Take(100).Select(e => new EventRequest(e.EventId, e.UserId, e.ItemId, e.Type.ToWireName(), e.Timestamp, e.Query)).ToList();
        _eventBatch = JsonSerializer.SerializeToUtf8Bytes(events, ApiJsonContext.Default.ListEventRequest);
    }

    [Benchmark(Description = "Recommend k=10 (domain only)")]
    public int Recommend() => _recommender.Recommend(_user, 10, RecommendationFilter.Default).Count;

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
