using Orleans.Providers.Streams.Common;
using Orleans.Runtime;
using Orleans.Streams;
using RabbitMQ.Client;

namespace Recsys.Cluster.Streams;

/// <summary>
/// One stream message: the events one producer call put on one user's stream, with the producer's request context.
/// The body of the RabbitMQ message is this container in Orleans' serializer; the broker-side fields (delivery tag,
/// channel, delivery progress) are local to the silo that received it and never serialized.
/// </summary>
[GenerateSerializer]
public sealed class RabbitMqBatchContainer : IBatchContainer
{
    /// <summary>For the serializer, which sets the fields.</summary>
    internal RabbitMqBatchContainer()
        : this(default, [], null)
    {
    }

    public RabbitMqBatchContainer(StreamId streamId, List<object> events, Dictionary<string, object>? requestContext)
    {
        StreamId = streamId;
        Events = events;
        RequestContext = requestContext;
    }

    [Id(0)]
    public StreamId StreamId { get; private set; }

    [Id(1)]
    public List<object> Events { get; private set; }

    [Id(2)]
    public Dictionary<string, object>? RequestContext { get; private set; }

    [Id(3)]
    public EventSequenceTokenV2 Token { get; set; } = new(0);

    public StreamSequenceToken SequenceToken => Token;

    /// <summary>The receiving channel and its tag for this message (receiver side only).</summary>
    [NonSerialized]
    internal IChannel? Channel;

    [NonSerialized]
    internal ulong DeliveryTag;

    /// <summary>Consumers currently delivering this message; it is acknowledged only at zero (see <see cref="AckAfterDeliveryCache"/>).</summary>
    [NonSerialized]
    internal int InFlight;

    /// <summary>A delivery gave up on this message: it goes back to the broker instead of being acknowledged.</summary>
    [NonSerialized]
    internal bool DeliveryFailed;

    public IEnumerable<Tuple<T, StreamSequenceToken>> GetEvents<T>() =>
        Events.OfType<T>().Select((e, i) => Tuple.Create(e, (StreamSequenceToken)Token.CreateSequenceTokenForEvent(i)));

    public bool ImportRequestContext()
    {
        if (RequestContext is null)
        {
            return false;
        }
        RequestContextExtensions.Import(RequestContext);
        return true;
    }
}
