using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Streams;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Recsys.Silo;

namespace Recsys.Cluster.Streams;

/// <summary>
/// The event stream's producer side: a batch put on a user's stream becomes one persistent message on the queue
/// Orleans' queue mapper gives that stream, and the call returns only when the broker confirmed it (a quorum queue
/// confirms once a majority has it on disk). Anything short of that is a <see cref="ServiceUnavailableException"/>:
/// the client retries, and the event-id dedup makes the retry harmless.
/// </summary>
public sealed class RabbitMqQueueAdapter : IQueueAdapter, IEventStreamBroker, IAsyncDisposable
{
    private readonly ClusterModeOptions _options;
    private readonly HashRingBasedStreamQueueMapper _mapper;
    private readonly Serializer _serializer;
    private readonly BrokerConnection _publishing;
    private readonly BrokerConnection _receiving;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _inFlight;
    private readonly SemaphoreSlim _opening = new(1, 1);
    private IChannel[] _channels = [];
    private int _next;

    public RabbitMqQueueAdapter(ClusterModeOptions options, Serializer serializer, RabbitMqConnector connector, ILoggerFactory loggers)
    {
        Name = Grains.EventStreams.ProviderName;
        _options = options;
        _mapper = new HashRingBasedStreamQueueMapper(new HashRingStreamQueueMapperOptions { TotalQueueCount = options.Queues },
            options.StreamName);
        _serializer = serializer;
        _publishing = new BrokerConnection(connector, "publisher");
        _receiving = new BrokerConnection(connector, "receiver");
        _loggers = loggers;
        _logger = loggers.CreateLogger("Recsys.Cluster.Stream");
        _inFlight = new SemaphoreSlim(options.MaxPublishesInFlight);
    }

    public string Name { get; }

    string IEventStreamBroker.Name => "RabbitMQ";

    /// <summary>RabbitMQ's default message size limit is far above any request's events.</summary>
    public int MaxMessageBytes => 16 * 1024 * 1024;

    /// <summary>Which queue a user's stream goes to: Orleans' consistent hash ring over the queues.</summary>
    public HashRingBasedStreamQueueMapper Mapper => _mapper;

    public bool IsRewindable => false;

    public StreamProviderDirection Direction => StreamProviderDirection.ReadWrite;

    public bool IsConnected => _publishing.IsOpen;

    /// <summary>The queue a numbered queue id is stored in.</summary>
    public static string QueueName(ClusterModeOptions options, QueueId queue) => $"{options.StreamName}.q{queue.GetNumericId():D3}";

    /// <summary>Connects and declares every queue, so publishes never go to a queue nobody declared.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var connection = await _publishing.GetAsync(cancellationToken);
        await using var setup = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        foreach (var queue in _mapper.GetAllQueues())
        {
            await RabbitMqConnector.DeclareQueueAsync(setup, QueueName(_options, queue), cancellationToken);
        }
        await OpenChannelsAsync(cancellationToken);
        _logger.LogInformation("Event stream on RabbitMQ: {Queues} quorum queues named {Prefix}.qNNN", _mapper.GetAllQueues().Count(),
            _options.StreamName);
    }

    public IQueueAdapterReceiver CreateReceiver(QueueId queueId) =>
        new RabbitMqQueueReceiver(_receiving, QueueName(_options, queueId), _options.Prefetch, _serializer,
            _loggers.CreateLogger("Recsys.Cluster.Stream"), pulling => Track(queueId, pulling));

    /// <summary>The queues this silo's receivers pull now (by number), as Orleans' balancer assigned them.</summary>
    public IReadOnlyList<int> PulledQueues
    {
        get
        {
            lock (_pulled)
            {
                return _pulled.Select(static q => (int)q.GetNumericId()).Order().ToArray();
            }
        }
    }

    private readonly HashSet<QueueId> _pulled = [];

    private void Track(QueueId queue, bool pulling)
    {
        lock (_pulled)
        {
            _ = pulling ? _pulled.Add(queue) : _pulled.Remove(queue);
        }
    }

    public async Task QueueMessageBatchAsync<T>(StreamId streamId, IEnumerable<T> events, StreamSequenceToken? token,
        Dictionary<string, object>? requestContext)
    {
        if (token is not null)
        {
            throw new ArgumentException("the event stream does not take sequence tokens from producers", nameof(token));
        }
        var message = new RabbitMqBatchContainer(streamId, events.Cast<object>().ToList(), requestContext);
        var body = _serializer.SerializeToArray(message);
        var queue = QueueName(_options, _mapper.GetQueueForStream(streamId));
        try
        {
            await PublishAsync(queue, body).WaitAsync(_options.PublishTimeout);
        }
        catch (TimeoutException ex)
        {
            throw new ServiceUnavailableException(
                $"the event stream did not confirm the events within {_options.PublishTimeout.TotalSeconds:0.#} s; retry the batch", ex);
        }
        catch (Exception ex) when (ex is AlreadyClosedException or PublishException or OperationInterruptedException
                                       or BrokerUnreachableException or IOException or ObjectDisposedException)
        {
            throw new ServiceUnavailableException($"the event stream did not accept the events ({ex.Message}); retry the batch", ex);
        }
    }

    private async Task PublishAsync(string queue, byte[] body)
    {
        await _inFlight.WaitAsync();
        try
        {
            var channels = _channels;
            if (channels.Length == 0 || !channels[0].IsOpen)
            {
                channels = await OpenChannelsAsync(CancellationToken.None);
            }
            var channel = channels[(int)((uint)Interlocked.Increment(ref _next) % (uint)channels.Length)];
            var properties = new BasicProperties { DeliveryMode = DeliveryModes.Persistent, ContentType = "application/x-orleans" };
            // No cancellation: a publish abandoned half way leaves the client's confirm bookkeeping unsure, and the
            // caller's timeout already bounds the wait. mandatory: a message no queue takes is an error, not a drop.
            await channel.BasicPublishAsync("", queue, mandatory: true, properties, body, CancellationToken.None);
        }
        finally
        {
            _inFlight.Release();
        }
    }

    private async Task<IChannel[]> OpenChannelsAsync(CancellationToken cancellationToken)
    {
        await _opening.WaitAsync(cancellationToken);
        try
        {
            if (_channels.Length > 0 && _channels[0].IsOpen)
            {
                return _channels;
            }
            var connection = await _publishing.GetAsync(cancellationToken);
            // A few channels spread the confirm bookkeeping; the client's own throttling (which slows publishing to a
            // crawl) is off, and MaxPublishesInFlight bounds what is outstanding.
            var channels = new IChannel[Math.Max(1, Environment.ProcessorCount)];
            for (var i = 0; i < channels.Length; i++)
            {
                channels[i] = await connection.CreateChannelAsync(
                    new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true,
                        outstandingPublisherConfirmationsRateLimiter: null),
                    cancellationToken);
            }
            _channels = channels;
            return channels;
        }
        finally
        {
            _opening.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var channel in _channels)
        {
            await channel.DisposeAsync();
        }
        await _publishing.DisposeAsync();
        await _receiving.DisposeAsync();
    }
}
