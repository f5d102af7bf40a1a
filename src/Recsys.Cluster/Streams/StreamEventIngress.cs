using Orleans.Runtime;
using Orleans.Streams;
using Recsys.Domain.Events;
using Recsys.Grains;

namespace Recsys.Cluster.Streams;

/// <summary>
/// Cluster mode: each user's events of a request go on the user's stream as one message; the call returns once the
/// broker confirmed every one of them (202), and the user grains apply them through their implicit subscription.
/// </summary>
public sealed class StreamEventIngress(IClusterClient client) : IEventIngress
{
    private readonly IStreamProvider _streams = client.GetStreamProvider(EventStreams.ProviderName);

    public async Task<IReadOnlyList<bool[]>?> SendAsync(IReadOnlyList<KeyValuePair<string, List<BehaviourEvent>>> byUser,
        CancellationToken cancellationToken)
    {
        var publishes = new Task[byUser.Count];
        for (var i = 0; i < publishes.Length; i++)
        {
            var stream = _streams.GetStream<EventBatch>(StreamId.Create(EventStreams.Namespace, byUser[i].Key));
            publishes[i] = stream.OnNextAsync(new EventBatch(byUser[i].Value));
        }
        await Task.WhenAll(publishes);
        return null;
    }
}
