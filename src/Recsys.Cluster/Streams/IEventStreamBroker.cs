namespace Recsys.Cluster.Streams;

/// <summary>
/// The service that holds the event stream's queues (RabbitMQ by default, Azure Queue storage on Azure): what a silo
/// prepares before Orleans starts pulling, and what the admin endpoint and readiness report about it.
/// </summary>
public interface IEventStreamBroker
{
    /// <summary>Names the broker in logs, status and readiness messages.</summary>
    string Name { get; }

    /// <summary>False once the silo lost its way to the broker; readiness fails then.</summary>
    bool IsConnected { get; }

    /// <summary>The queues this silo pulls now, by their index in the stream (0 to Queues - 1).</summary>
    IReadOnlyList<int> PulledQueues { get; }

    /// <summary>The largest message the broker takes: a user's events of one request are split to fit.</summary>
    int MaxMessageBytes { get; }

    /// <summary>Waits until the broker answers and its queues exist.</summary>
    Task StartAsync(CancellationToken cancellationToken);
}
