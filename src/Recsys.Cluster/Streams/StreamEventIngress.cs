using System.Text;
using Azure;
using Orleans.Runtime;
using Orleans.Streams;
using Recsys.Domain.Events;
using Recsys.Grains;
using Recsys.Silo;

namespace Recsys.Cluster.Streams;

/// <summary>
/// Cluster mode: each user's events of a request go on the user's stream, as one message unless the broker's message
/// limit needs several (Azure Queue storage takes 64 KB); the call returns once the broker confirmed every one of them
/// (202), and the user grains apply them through their implicit subscription.
/// </summary>
public sealed class StreamEventIngress(IClusterClient client, IEventStreamBroker broker) : IEventIngress
{
    // What a serialized event costs beyond its strings: type, timestamp, field headers, nulls.
    private const int EventOverheadBytes = 48;

    private readonly IStreamProvider _streams = client.GetStreamProvider(EventStreams.ProviderName);
    private long _published;

    /// <summary>Messages the broker confirmed since start.</summary>
    public long Published => Interlocked.Read(ref _published);

    public async Task<IReadOnlyList<bool[]>?> SendAsync(IReadOnlyList<KeyValuePair<string, List<BehaviourEvent>>> byUser,
        CancellationToken cancellationToken)
    {
        var publishes = new Task[byUser.Count];
        for (var i = 0; i < publishes.Length; i++)
        {
            var stream = _streams.GetStream<EventBatch>(StreamId.Create(EventStreams.Namespace, byUser[i].Key));
            publishes[i] = PublishAsync(stream, byUser[i].Value);
        }
        await Task.WhenAll(publishes);
        return null;
    }

    /// <summary>One user's messages one after another, so the queue holds them in the order sent.</summary>
    private async Task PublishAsync(IAsyncStream<EventBatch> stream, List<BehaviourEvent> events)
    {
        foreach (var message in Split(events, broker.MaxMessageBytes))
        {
            try
            {
                await stream.OnNextAsync(new EventBatch(message));
            }
            // Azure's client has retried by the time it throws; the client retries the request, and dedup makes it safe.
            catch (Exception ex) when (ex is RequestFailedException or AggregateException or HttpRequestException or TimeoutException)
            {
                throw new ServiceUnavailableException($"{broker.Name} did not accept the events ({ex.Message}); retry the batch", ex);
            }
            Interlocked.Increment(ref _published);
        }
    }

    /// <summary>Consecutive runs of events whose estimated size stays within <paramref name="budget"/> (at least one each).</summary>
    public static IEnumerable<List<BehaviourEvent>> Split(List<BehaviourEvent> events, int budget)
    {
        // A char is at most 3 UTF-8 bytes: most messages fit on that bound, without counting bytes on the hot path.
        if (events.Sum(static e => EventOverheadBytes + 3 * (Chars(e.EventId) + Chars(e.UserId) + Chars(e.ItemId) + Chars(e.Query)
                                                            + Chars(e.RecommendationId))) <= budget)
        {
            yield return events;
            yield break;
        }
        var sizes = events.Select(EstimatedBytes).ToArray();
        var start = 0;
        var bytes = 0;
        for (var i = 0; i < events.Count; i++)
        {
            if (i > start && bytes + sizes[i] > budget)
            {
                yield return events.GetRange(start, i - start);
                start = i;
                bytes = 0;
            }
            bytes += sizes[i];
        }
        yield return events.GetRange(start, events.Count - start);
    }

    private static int EstimatedBytes(BehaviourEvent e) =>
        EventOverheadBytes + Utf8(e.EventId) + Utf8(e.UserId) + Utf8(e.ItemId) + Utf8(e.Query) + Utf8(e.RecommendationId);

    private static int Utf8(string? text) => text is null ? 0 : Encoding.UTF8.GetByteCount(text);

    private static int Chars(string? text) => text?.Length ?? 0;
}
