using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Recsys.Cluster.Streams;

/// <summary>
/// Opens broker connections for the event stream, retrying with backoff while the broker is not there yet (a cluster
/// starts in any order). The client's automatic recovery is off: a delivery tag belongs to one channel, so whoever owns
/// a channel reopens it and lets the broker redeliver what was unacknowledged.
/// </summary>
public sealed class RabbitMqConnector(ClusterModeOptions options, ILogger<RabbitMqConnector> logger)
{
    public async Task<IConnection> ConnectAsync(string purpose, CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory
        {
            Uri = new Uri(options.RabbitMq!),
            RequestedHeartbeat = options.Heartbeat,
            AutomaticRecoveryEnabled = false,
            TopologyRecoveryEnabled = false,
            ClientProvidedName = $"{options.EffectiveSiloName} {purpose}",
        };
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
                    logger.LogWarning("RabbitMQ at {Host}:{Port} is unreachable (attempt {Attempt}): {Error}; retrying", factory.HostName,
                        factory.Port, attempt, ex.InnerException?.Message ?? ex.Message);
                }
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    /// <summary>Declares one event queue: durable, quorum (replicated, on disk before the publish is confirmed),
    /// single active consumer (while a queue moves between silos, the new owner waits until the old one let go,
    /// so a user's events stay in order).</summary>
    public static Task DeclareQueueAsync(IChannel channel, string queue, CancellationToken cancellationToken) =>
        channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false,
            arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum", ["x-single-active-consumer"] = true },
            cancellationToken: cancellationToken);
}
