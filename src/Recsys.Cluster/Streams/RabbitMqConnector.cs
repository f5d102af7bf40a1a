using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Recsys.Cluster.Streams;

/// <summary>
/// Opens broker connections for the event stream, waiting while the broker is not there yet (<see cref="ServiceRetry"/>).
/// The client's automatic recovery is off: a delivery tag belongs to one channel, so whoever owns a channel reopens it
/// and lets the broker redeliver what was unacknowledged.
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
        return await ServiceRetry.UntilAnsweredAsync(ct => factory.CreateConnectionAsync(ct), static ex => ex is BrokerUnreachableException,
            logger, $"RabbitMQ at {factory.HostName}:{factory.Port}", cancellationToken);
    }

    /// <summary>Declares one event queue: durable, quorum (replicated, on disk before the publish is confirmed),
    /// single active consumer (while a queue moves between silos, the new owner waits until the old one let go,
    /// so a user's events stay in order).</summary>
    public static Task DeclareQueueAsync(IChannel channel, string queue, CancellationToken cancellationToken) =>
        channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false,
            arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum", ["x-single-active-consumer"] = true },
            cancellationToken: cancellationToken);
}
