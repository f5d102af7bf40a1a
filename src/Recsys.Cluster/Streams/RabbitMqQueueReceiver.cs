using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Orleans.Providers.Streams.Common;
using Orleans.Serialization;
using Orleans.Streams;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace Recsys.Cluster.Streams;

/// <summary>
/// Pulls one event queue for the silo Orleans' queue balancer gave it to: a consumer with a bounded prefetch buffers
/// deliveries, the pulling agent drains them, and a message is acknowledged only when the cache hands it back after
/// every delivery of it completed (the grain committed). A lost channel is reopened on the next pull; what it had
/// not acknowledged the broker delivers again, and the grains' event-id dedup makes that harmless.
/// </summary>
public sealed class RabbitMqQueueReceiver(
    BrokerConnection connection,
    string queue,
    ushort prefetch,
    Serializer serializer,
    ILogger logger,
    Action<bool> pulling) : IQueueAdapterReceiver
{
    private readonly ConcurrentQueue<BasicDeliverEventArgs> _deliveries = new();
    private IChannel? _channel;
    private long _sequence;
    private DateTime _lastError = DateTime.MinValue;

    public Task Initialize(TimeSpan timeout)
    {
        pulling(true);
        return EnsureChannelAsync(timeout);
    }

    public async Task<IList<IBatchContainer>> GetQueueMessagesAsync(int maxCount)
    {
        if (_channel is not { IsOpen: true })
        {
            if (!await EnsureChannelAsync(TimeSpan.FromSeconds(5)))
            {
                return [];
            }
        }
        var channel = _channel!;
        var limit = maxCount < 0 ? int.MaxValue : maxCount;
        var messages = new List<IBatchContainer>(Math.Min(limit, _deliveries.Count));
        while (messages.Count < limit && _deliveries.TryDequeue(out var delivery))
        {
            RabbitMqBatchContainer? message = null;
            Exception? unreadable = null;
            try
            {
                message = serializer.Deserialize<RabbitMqBatchContainer>(delivery.Body.ToArray());
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                unreadable = ex;
            }
            if (message is null)
            {
                // Not ours, or from an incompatible release: it would fail on every silo. Drop it loudly.
                logger.LogError(unreadable, "Dropping an unreadable message from {Queue} (delivery {Tag})", queue, delivery.DeliveryTag);
                await SettleAsync(channel, delivery.DeliveryTag, ack: false, requeue: false);
                continue;
            }
            message.Token = new EventSequenceTokenV2(++_sequence);
            message.Channel = channel;
            message.DeliveryTag = delivery.DeliveryTag;
            messages.Add(message);
        }
        return messages;
    }

    public async Task MessagesDeliveredAsync(IList<IBatchContainer> messages)
    {
        foreach (var message in messages.OfType<RabbitMqBatchContainer>())
        {
            // A tag means something only on the channel that received it; after a reconnect the broker redelivers.
            if (message.Channel is { IsOpen: true } channel)
            {
                await SettleAsync(channel, message.DeliveryTag, ack: !message.DeliveryFailed, requeue: true);
            }
        }
    }

    public async Task Shutdown(TimeSpan timeout)
    {
        pulling(false);
        var channel = _channel;
        _channel = null;
        _deliveries.Clear();
        if (channel is not null)
        {
            // Closing the channel hands what it had not acknowledged back to the queue, for the next owner.
            try
            {
                await channel.CloseAsync().WaitAsync(timeout);
            }
            catch (Exception ex) when (ex is TimeoutException or AlreadyClosedException or OperationInterruptedException)
            {
                logger.LogDebug("Closing the channel of {Queue}: {Error}", queue, ex.Message);
            }
            await channel.DisposeAsync();
        }
        logger.LogInformation("Stopped pulling {Queue}", queue);
    }

    private async Task<bool> EnsureChannelAsync(TimeSpan timeout)
    {
        try
        {
            if (_channel is { } old)
            {
                _channel = null;
                _deliveries.Clear(); // their tags died with the channel; the broker delivers them again
                await old.DisposeAsync();
            }
            using var cts = new CancellationTokenSource(timeout);
            var open = await connection.GetAsync(cts.Token);
            var channel = await open.CreateChannelAsync(cancellationToken: cts.Token);
            await RabbitMqConnector.DeclareQueueAsync(channel, queue, cts.Token);
            await channel.BasicQosAsync(0, prefetch, global: false, cts.Token);
            var consumer = new AsyncEventingBasicConsumer(channel);
            consumer.ReceivedAsync += (_, delivery) =>
            {
                // The body's memory belongs to the client only during this callback.
                _deliveries.Enqueue(new BasicDeliverEventArgs(delivery.ConsumerTag, delivery.DeliveryTag, delivery.Redelivered,
                    delivery.Exchange, delivery.RoutingKey, delivery.BasicProperties, delivery.Body.ToArray()));
                return Task.CompletedTask;
            };
            await channel.BasicConsumeAsync(queue, autoAck: false, consumer, cts.Token);
            _channel = channel;
            logger.LogInformation("Pulling {Queue} (prefetch {Prefetch})", queue, prefetch);
            return true;
        }
        catch (Exception ex) when (ex is OperationCanceledException or AlreadyClosedException or OperationInterruptedException
                                       or BrokerUnreachableException or IOException)
        {
            if (DateTime.UtcNow - _lastError > TimeSpan.FromSeconds(10))
            {
                _lastError = DateTime.UtcNow;
                logger.LogWarning("Cannot pull {Queue} now ({Error}); retrying", queue, ex.Message);
            }
            return false;
        }
    }

    private async Task SettleAsync(IChannel channel, ulong tag, bool ack, bool requeue)
    {
        try
        {
            if (ack)
            {
                await channel.BasicAckAsync(tag, multiple: false);
            }
            else
            {
                await channel.BasicNackAsync(tag, multiple: false, requeue);
            }
        }
        catch (Exception ex) when (ex is AlreadyClosedException or OperationInterruptedException or ObjectDisposedException)
        {
            logger.LogDebug("Could not settle delivery {Tag} on {Queue}: {Error}", tag, queue, ex.Message);
        }
    }
}
