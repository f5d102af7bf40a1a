namespace Recsys.Cluster;

/// <summary>What a silo process does in cluster mode.</summary>
public enum ClusterRole
{
    /// <summary>Takes HTTP requests: publishes events to the stream, reads user state from PostgreSQL, scores the catalogue.</summary>
    Gateway,

    /// <summary>Consumes its share of the event partitions into user actors and commits their state.</summary>
    Worker,

    /// <summary>Both in one process.</summary>
    Both,
}

/// <summary>Cluster mode settings; bound from the "Recsys:Cluster" configuration section.</summary>
public sealed record ClusterOptions
{
    public ClusterRole Role { get; init; } = ClusterRole.Both;

    /// <summary>Npgsql connection string of the state database.</summary>
    public string? Postgres { get; init; }

    /// <summary>AMQP URI of the broker, e.g. amqp://user:password@host:5672/vhost.</summary>
    public string? RabbitMq { get; init; }

    /// <summary>
    /// Partition queues of the event stream. Every silo of a cluster must agree; more partitions than silos lets
    /// ownership spread (a partition is the unit that moves).
    /// </summary>
    public int Partitions { get; init; } = 8;

    /// <summary>Names the exchange and, with a suffix, the partition queues, so several clusters can share a broker.</summary>
    public string StreamName { get; init; } = "recsys.events";

    /// <summary>
    /// Database connections per pool (a silo has one for commits and one for reads), unless the connection string sets
    /// Maximum Pool Size: PostgreSQL's connection limit is shared by every silo.
    /// </summary>
    public int DatabaseConnections { get; init; } = 24;

    /// <summary>Unacknowledged messages a silo holds per partition: the events being applied concurrently (per user in order).</summary>
    public ushort Prefetch { get; init; } = 64;

    /// <summary>AMQP heartbeat: a hung silo loses its partitions after about twice this.</summary>
    public TimeSpan Heartbeat { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>How often a worker compares its partitions with its fair share and gives up the excess.</summary>
    public TimeSpan RebalanceInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Publishes in flight per gateway before POST /v1/events waits for confirmations to come back.</summary>
    public int MaxPublishesInFlight { get; init; } = 1024;

    /// <summary>How long POST /v1/events waits for the broker's confirmation before answering 503.</summary>
    public TimeSpan PublishTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a gateway read retries an unreachable database before answering from what it has.</summary>
    public TimeSpan ReadRetryBudget { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest wait between attempts while the database is unreachable.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Graceful shutdown: in-flight messages committed, partitions handed over, within this.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>How often a process picks up catalogue changes other gateways stored.</summary>
    public TimeSpan CatalogueRefreshInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Users whose intent a gateway keeps between requests (about half a kilobyte each with a 64-wide model).</summary>
    public int GatewayIntentCacheUsers { get; init; } = 100_000;

    /// <summary>Names this silo in logs and the broker's connection list; host and process id by default.</summary>
    public string? SiloName { get; init; }

    public bool RunsGateway => Role is ClusterRole.Gateway or ClusterRole.Both;

    public bool RunsWorker => Role is ClusterRole.Worker or ClusterRole.Both;

    public string EffectiveSiloName => SiloName ?? $"{Environment.MachineName}-{Environment.ProcessId}";

    /// <summary>Throws with a message naming the setting when the options cannot work.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Postgres))
        {
            throw new ArgumentException("cluster mode needs Recsys:Cluster:Postgres (--postgres or RECSYS_POSTGRES), an Npgsql connection string");
        }
        if (string.IsNullOrWhiteSpace(RabbitMq) || !Uri.TryCreate(RabbitMq, UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "amqps"))
        {
            throw new ArgumentException("cluster mode needs Recsys:Cluster:RabbitMq (--rabbitmq or RECSYS_RABBITMQ), an amqp:// URI");
        }
        if (Partitions is < 1 or > 1024)
        {
            throw new ArgumentException($"Recsys:Cluster:Partitions must be between 1 and 1024, not {Partitions}");
        }
        if (Prefetch < 1)
        {
            throw new ArgumentException("Recsys:Cluster:Prefetch must be at least 1");
        }
        if (MaxPublishesInFlight < 1)
        {
            throw new ArgumentException("Recsys:Cluster:MaxPublishesInFlight must be at least 1");
        }
        if (Heartbeat < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentException("Recsys:Cluster:Heartbeat must be at least 1 s (AMQP heartbeats are whole seconds)");
        }
    }
}
