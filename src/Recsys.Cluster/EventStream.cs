using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Recsys.Cluster;

/// <summary>
/// The event stream's layout in RabbitMQ: a consistent-hash exchange on the user id (the routing key) over
/// <see cref="ClusterOptions.Partitions"/> quorum queues with single active consumer, so each partition has
/// exactly one live consumer and a user's events stay in order on one partition.
/// </summary>
public static class EventStream
{
    /// <summary>Points each queue gets on the hash ring; more points spread users more evenly over the partitions.</summary>
    private const string BindingWeight = "50";

    public static string QueueName(ClusterOptions options, int partition) => $"{options.StreamName}.p{partition:D3}";

    /// <summary>The queue live workers consume from to be counted (never published to).</summary>
    public static string WorkersQueueName(ClusterOptions options) => $"{options.StreamName}.workers";

    private static ConnectionFactory ConnectionFactory(ClusterOptions options, string purpose) => new()
    {
        Uri = new Uri(options.RabbitMq!),
        RequestedHeartbeat = options.Heartbeat,
        AutomaticRecoveryEnabled = true,
        TopologyRecoveryEnabled = false, // consumers are re-subscribed by their owner, which knows their state
        NetworkRecoveryInterval = TimeSpan.FromSeconds(1),
        ClientProvidedName = $"{options.EffectiveSiloName} {purpose}",
    };

    /// <summary>Declares the exchange, queues and bindings; idempotent, so every silo does it at start.</summary>
    public static async Task DeclareAsync(IChannel channel, ClusterOptions options, CancellationToken cancellationToken)
    {
        await channel.ExchangeDeclareAsync(options.StreamName, "x-consistent-hash", durable: true, autoDelete: false, cancellationToken: cancellationToken);
        for (var partition = 0; partition < options.Partitions; partition++)
        {
            var queue = QueueName(options, partition);
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false,
                arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum", ["x-single-active-consumer"] = true },
                cancellationToken: cancellationToken);
            await channel.QueueBindAsync(queue, options.StreamName, BindingWeight, cancellationToken: cancellationToken);
        }
    }

    /// <summary>Connects, retrying with backoff while the broker is not there yet (a cluster starts in any order).</summary>
    public static async Task<IConnection> ConnectAsync(ClusterOptions options, string purpose, ILogger logger, CancellationToken cancellationToken)
    {
        var factory = ConnectionFactory(options, purpose);
        var delay = TimeSpan.FromMilliseconds(200);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await factory.CreateConnectionAsync(cancellationToken);
            }
            catch (BrokerUnreachableException ex) when (!cancellationToken.IsCancellationRequested)
            {
                if (attempt == 1 || attempt % 10 == 0)
                {
                    logger.LogWarning("RabbitMQ at {Host}:{Port} is unreachable (attempt {Attempt}): {Error}; retrying", factory.HostName, factory.Port, attempt,
                        ex.InnerException?.Message ?? ex.Message);
                }
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }
}
