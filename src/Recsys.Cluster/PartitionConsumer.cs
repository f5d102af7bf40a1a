using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Recsys.Actors;
using Recsys.Domain.Events;
using Recsys.Domain.Users;
using Recsys.Silo;

namespace Recsys.Cluster;

/// <summary>
/// This silo's subscription to one partition queue. Single active consumer makes at most one silo's subscription
/// active; AMQP does not say which, so the first delivery tells this silo it owns the partition. Each message goes
/// to its user's actor in delivery order (so a user's events apply in order) and is acked only after the actor
/// committed the state. Handing the partition over drains first: deliveries stop being taken, in-flight ones
/// commit and ack, then the channel closes, which returns what was not taken to the queue for the next owner.
/// </summary>
internal sealed class PartitionConsumer(int partition, ClusterOptions options, ActorHost<string, UserActor> users, WorkerCounters counters, ILogger logger)
    : IDisposable
{
    private readonly string _queue = EventStream.QueueName(options, partition);
    private readonly SemaphoreSlim _ackGate = new(1, 1);
    private readonly Lock _drainGate = new();
    private IChannel? _channel;
    private volatile bool _owned;
    private volatile bool _draining;
    private int _inFlight;
    private TaskCompletionSource? _drained;

    public int Partition => partition;

    /// <summary>Subscribed, as the active consumer or a standby.</summary>
    public bool IsSubscribed => _channel is { IsOpen: true };

    /// <summary>This silo's subscription is the active one (it has had a delivery since subscribing).</summary>
    public bool IsOwned => _owned && !_draining && IsSubscribed;

    public async Task SubscribeAsync(IConnection connection, CancellationToken cancellationToken)
    {
        var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        await channel.BasicQosAsync(0, options.Prefetch, global: false, cancellationToken);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += OnDeliveryAsync;
        _owned = false;
        _draining = false;
        _channel = channel;
        await channel.BasicConsumeAsync(_queue, autoAck: false, consumerTag: $"{options.EffectiveSiloName}.p{partition:D3}.{Guid.NewGuid():N}",
            noLocal: false, exclusive: false, arguments: null, consumer, cancellationToken);
    }

    /// <summary>Stops taking deliveries, lets in-flight ones commit and ack, and closes the channel (the partition moves on).</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        Task drained;
        lock (_drainGate)
        {
            _draining = true;
            _drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (Volatile.Read(ref _inFlight) == 0)
            {
                _drained.TrySetResult();
            }
            drained = _drained.Task;
        }
        try
        {
            await drained.WaitAsync(cancellationToken);
        }
        finally
        {
            var channel = _channel;
            _channel = null;
            _owned = false;
            if (channel is not null)
            {
                await channel.CloseAsync(CancellationToken.None);
                await channel.DisposeAsync();
            }
        }
    }

    public void Dispose() => _ackGate.Dispose();

    private async Task OnDeliveryAsync(object sender, BasicDeliverEventArgs delivery)
    {
        if (_draining)
        {
            return; // not taken: closing the channel returns it to the queue, ahead of newer messages, for the next owner
        }
        if (!_owned)
        {
            _owned = true;
            logger.LogInformation("Partition {Partition} is now owned by this silo", partition);
        }
        lock (_drainGate)
        {
            _inFlight++;
        }
        var channel = ((AsyncEventingBasicConsumer)sender).Channel;
        BehaviourEvent[] events;
        try
        {
            events = EventMessageCodec.Decode(delivery.Body); // the body is only valid inside this handler
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException)
        {
            logger.LogError(ex, "Dropped an unreadable message on partition {Partition}", partition);
            await CompleteAsync(channel, delivery.DeliveryTag, Task.FromResult(Array.Empty<ApplyOutcome>()), 0);
            return;
        }
        var span = StartApplySpan(delivery, events.Length);
        Task<ApplyOutcome[]> applied;
        try
        {
            // Awaiting only the queueing keeps the user's messages in delivery order while different users run in parallel.
            applied = await users.PostAsync(events[0].UserId, events,
                static (actor, batch) => actor.ApplyAndCommitAsync(batch, CancellationToken.None));
        }
        catch (Exception ex)
        {
            applied = Task.FromException<ApplyOutcome[]>(ex);
        }
        _ = CompleteAsync(channel, delivery.DeliveryTag, applied, events.Length, span);
    }

    /// <summary>A consumer span under the publishing request's trace (from the message's traceparent header), ended at the ack.</summary>
    private System.Diagnostics.Activity? StartApplySpan(BasicDeliverEventArgs delivery, int eventCount)
    {
        if (!EventPublisher.Telemetry.Source.HasListeners())
        {
            return null;
        }
        System.Diagnostics.ActivityContext parent = default;
        if (delivery.BasicProperties.Headers?.TryGetValue(EventPublisher.TraceParentHeader, out var header) == true &&
            header is byte[] bytes)
        {
            System.Diagnostics.ActivityContext.TryParse(System.Text.Encoding.UTF8.GetString(bytes), null, out parent);
        }
        var span = EventPublisher.Telemetry.Source.StartActivity("stream.apply", System.Diagnostics.ActivityKind.Consumer, parent);
        span?.SetTag("recsys.partition", partition);
        span?.SetTag("recsys.events", eventCount);
        span?.SetTag("recsys.redelivered", delivery.Redelivered);
        return span;
    }

    private async Task CompleteAsync(IChannel channel, ulong deliveryTag, Task<ApplyOutcome[]> applied, int eventCount,
        System.Diagnostics.Activity? span = null)
    {
        using var _ = span;
        try
        {
            var outcomes = await applied;
            var newEvents = outcomes.Count(static o => o == ApplyOutcome.Applied);
            span?.SetTag("recsys.applied", newEvents);
            counters.Record(newEvents, outcomes.Length - newEvents);
            await _ackGate.WaitAsync();
            try
            {
                await channel.BasicAckAsync(deliveryTag, multiple: false);
            }
            finally
            {
                _ackGate.Release();
            }
        }
        catch (Exception ex)
        {
            // Not acked: the broker redelivers it (now, or to the next owner) and the dedup makes the retry safe.
            logger.LogWarning("Message with {Count} events on partition {Partition} not acknowledged: {Error}", eventCount, partition, ex.Message);
            try
            {
                await _ackGate.WaitAsync();
                try
                {
                    if (channel.IsOpen)
                    {
                        await channel.BasicNackAsync(deliveryTag, multiple: false, requeue: true);
                    }
                }
                finally
                {
                    _ackGate.Release();
                }
            }
            catch (Exception nackError)
            {
                logger.LogDebug("Nack failed ({Error}); the channel's close returns the message", nackError.Message);
            }
        }
        finally
        {
            lock (_drainGate)
            {
                if (--_inFlight == 0 && _draining)
                {
                    _drained?.TrySetResult();
                }
            }
        }
    }
}

/// <summary>What a worker applied, for logs, tests and metrics.</summary>
public sealed class WorkerCounters
{
    private long _applied;
    private long _duplicates;

    public long Applied => Interlocked.Read(ref _applied);

    public long Duplicates => Interlocked.Read(ref _duplicates);

    public void Record(int applied, int duplicates)
    {
        Interlocked.Add(ref _applied, applied);
        Interlocked.Add(ref _duplicates, duplicates);
    }
}
