using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Recsys.Domain.Events;
using Recsys.Silo;

namespace Recsys.Cluster;

/// <summary>
/// Publishes validated events to the stream, one message per user and request, persistent, and returns only when
/// the broker has confirmed every message (a quorum queue confirms once a majority has it on disk). Anything short
/// of that is a <see cref="ServiceUnavailableException"/>: the client retries, and the event-id dedup makes the
/// retry harmless.
/// </summary>
public sealed class EventPublisher : IAsyncDisposable
{
    /// <summary>The message header carrying the publishing request's W3C trace context.</summary>
    public const string TraceParentHeader = "traceparent";

    internal static class Telemetry
    {
        public static readonly System.Diagnostics.ActivitySource Source = new("Recsys.Cluster");
    }

    private readonly ClusterOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _inFlight;
    private IConnection? _connection;
    private IChannel[] _channels = [];
    private int _next;

    public EventPublisher(ClusterOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        _inFlight = new SemaphoreSlim(options.MaxPublishesInFlight);
    }

    public bool IsConnected => _connection?.IsOpen == true;

    public long Published => Interlocked.Read(ref _published);

    private long _published;

    /// <summary>Connects (retrying until the broker answers) and declares the stream's topology.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _connection = await EventStream.ConnectAsync(_options, "publisher", _logger, cancellationToken);
        await using (var setup = await _connection.CreateChannelAsync(cancellationToken: cancellationToken))
        {
            await EventStream.DeclareAsync(setup, _options, cancellationToken);
        }
        // A few channels spread the confirm bookkeeping; the client's own throttling (a limiter of 128 outstanding
        // confirms that slows publishing to a crawl) is off, and MaxPublishesInFlight bounds what is outstanding.
        var channels = new IChannel[Math.Max(1, Environment.ProcessorCount)];
        for (var i = 0; i < channels.Length; i++)
        {
            channels[i] = await _connection.CreateChannelAsync(
                new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true,
                    outstandingPublisherConfirmationsRateLimiter: null),
                cancellationToken);
        }
        _channels = channels;
    }

    public async Task PublishAsync(IReadOnlyList<BehaviourEvent> events, CancellationToken cancellationToken)
    {
        if (_channels.Length == 0)
        {
            throw new ServiceUnavailableException("the event stream is not connected yet; retry shortly");
        }
        using var span = Telemetry.Source.StartActivity("stream.publish");
        var byUser = BehaviourEventBatches.ByUser(events);
        span?.SetTag("recsys.messages", byUser.Count);
        var publishes = new List<Task>(byUser.Count);
        foreach (var (userId, userEvents) in byUser)
        {
            publishes.Add(PublishOneAsync(userId, EventMessageCodec.Encode(userEvents), cancellationToken));
        }
        try
        {
            await Task.WhenAll(publishes).WaitAsync(_options.PublishTimeout, cancellationToken);
        }
        catch (TimeoutException ex)
        {
            throw new ServiceUnavailableException($"the event stream did not confirm the events within {_options.PublishTimeout.TotalSeconds:0.#} s; retry the batch", ex);
        }
        catch (Exception ex) when (ex is AlreadyClosedException or PublishException or OperationInterruptedException or BrokerUnreachableException
                                       or IOException or ObjectDisposedException)
        {
            throw new ServiceUnavailableException($"the event stream did not accept the events ({ex.Message}); retry the batch", ex);
        }
        Interlocked.Add(ref _published, byUser.Count);
    }

    private async Task PublishOneAsync(string userId, byte[] body, CancellationToken cancellationToken)
    {
        await _inFlight.WaitAsync(cancellationToken);
        try
        {
            var channel = _channels[(int)((uint)Interlocked.Increment(ref _next) % (uint)_channels.Length)];
            var properties = new BasicProperties { DeliveryMode = DeliveryModes.Persistent, ContentType = "application/x-recsys-events" };
            if (System.Diagnostics.Activity.Current is { } span)
            {
                // W3C trace context, so the worker's apply joins the request's trace.
                properties.Headers = new Dictionary<string, object?> { [TraceParentHeader] = span.Id };
            }
            // No cancellation token: a publish abandoned half way leaves the client's confirm bookkeeping unsure, and
            // the request's own timeout above already bounds the wait. mandatory: an unroutable message (no queue
            // bound) is an error, not a silent drop.
            await channel.BasicPublishAsync(_options.StreamName, userId, mandatory: true, properties, body, CancellationToken.None);
        }
        finally
        {
            _inFlight.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var channel in _channels)
        {
            await channel.DisposeAsync();
        }
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
    }
}
