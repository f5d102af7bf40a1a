using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Recsys.Silo;

/// <summary>
/// The silo's spans and metrics, on System.Diagnostics so the domain needs no telemetry SDK: the host's OpenTelemetry
/// setup listens to every "Recsys.*" source and meter.
/// </summary>
public static class SiloTelemetry
{
    public const string Name = "Recsys.Silo";

    /// <summary>Spans of a recommendation: recommend → intent → shard.topk per shard (the fan-out).</summary>
    public static readonly ActivitySource Source = new(Name);
}

/// <summary>One silo's instruments; a meter per cluster instance, so its observable callbacks go away with it.</summary>
public sealed class SiloMetrics : IDisposable
{
    private readonly Meter _meter = new(SiloTelemetry.Name);

    public SiloMetrics(Serving.ModelServing serving, Serving.FeedbackLedger feedback, Func<int> activeUsers)
    {
        EventsIngested = _meter.CreateCounter<long>("recsys.events.ingested", "{event}",
            "Events handled, by outcome: applied to a user's state, or duplicate (a replayed eventId, dropped)");
        RecommendationsServed = _meter.CreateCounter<long>("recsys.recommendations.served", "{list}", "Recommendation lists served, by model version");
        var encodeBatch = _meter.CreateHistogram<int>("recsys.encode.batch_size", "{sequence}", "Sequences per forward pass of the intent encoder",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });
        var encodeDuration = _meter.CreateHistogram<double>("recsys.encode.duration", "s", "Time of one forward pass of the intent encoder",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1] });
        var freshness = _meter.CreateHistogram<double>("recsys.intent.freshness", "s",
            "From an event changing a user's history to the intent encode that reflects it",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1] });
        var encoder = serving.Encoder;
        encoder.Batcher.BatchServed += (size, elapsed) =>
        {
            encodeBatch.Record(size);
            encodeDuration.Record(elapsed.TotalSeconds);
        };
        encoder.IntentRefreshed += elapsed => freshness.Record(elapsed.TotalSeconds);
        _meter.CreateObservableGauge("recsys.actors.active", activeUsers, "{actor}", "User grains in memory");
        _meter.CreateObservableGauge("recsys.queue.depth", () => QueueDepths(serving), "{request}", "Requests waiting for a batch worker, by queue");
        _meter.CreateObservableGauge("recsys.models.loaded", () => serving.Describe().Select(static m =>
                new Measurement<int>(1, new KeyValuePair<string, object?>("model_version", m.Version), new KeyValuePair<string, object?>("role", m.Role))),
            "{model}", "Loaded model versions and their role");
        _meter.CreateObservableGauge("recsys.model.click_through", () => feedback.Snapshot().Select(static f =>
                new Measurement<double>(f.ClickThroughRate, new KeyValuePair<string, object?>("model_version", f.ModelVersion))),
            "1", "Clicks per recommendation list served, by model version");
    }

    public Counter<long> EventsIngested { get; }

    public Counter<long> RecommendationsServed { get; }

    public void Dispose() => _meter.Dispose();

    private static IEnumerable<Measurement<int>> QueueDepths(Serving.ModelServing serving)
    {
        yield return new Measurement<int>(serving.Encoder.Batcher.QueueLength, new KeyValuePair<string, object?>("queue", "inference"));
        var shards = serving.Shards.Shards;
        for (var s = 0; s < shards.Count; s++)
        {
            yield return new Measurement<int>(shards[s].Batcher.QueueLength, new KeyValuePair<string, object?>("queue", $"shard-{s}"));
        }
    }
}
