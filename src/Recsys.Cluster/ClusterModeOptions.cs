using Recsys.Grains;

namespace Recsys.Cluster;

/// <summary>Cluster mode settings; bound from the "Recsys:Cluster" configuration section.</summary>
public sealed record ClusterModeOptions
{
    /// <summary>
    /// This silo's roles, comma-separated: gateway (HTTP API), worker (user and shard grains, pulls event queues),
    /// inference (inference grains); "all" for every role.
    /// </summary>
    public string Roles { get; init; } = "all";

    /// <summary>Npgsql connection string of the database: membership, user state, the catalogue.</summary>
    public string? Postgres { get; init; }

    /// <summary>AMQP URI of the broker, e.g. amqp://user:password@host:5672/vhost.</summary>
    public string? RabbitMq { get; init; }

    /// <summary>
    /// Where user state is stored: "postgres" (the default, our grain storage over PostgreSQL), or on Azure
    /// "azure-table" or "azure-blob" (Orleans' Azure grain storage, <see cref="AzureStorage"/>).
    /// </summary>
    public string Storage { get; init; } = StorageKinds.Postgres;

    /// <summary>Which broker holds the event stream: "rabbitmq" (the default) or "azure-queue" (Azure Queue storage).</summary>
    public string Streams { get; init; } = StreamKinds.RabbitMq;

    /// <summary>Azure Storage connection string, for azure-table/azure-blob storage and azure-queue streams.</summary>
    public string? AzureStorage { get; init; }

    /// <summary>The Azure table or blob container user state goes to: lower-case letters and digits, 3 to 63.</summary>
    public string AzureStateName { get; init; } = "recsysusers";

    /// <summary>How long an Azure queue message stays hidden while its delivery runs; after that it is delivered again.</summary>
    public TimeSpan AzureQueueVisibilityTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public bool UsesAzure => Storage != StorageKinds.Postgres || Streams != StreamKinds.RabbitMq;

    /// <summary>The Azure queue a numbered queue of the stream is (queue names allow letters, digits and hyphens).</summary>
    public string AzureQueueName(int index) => $"{StreamName.Replace('.', '-').ToLowerInvariant()}-{index:D3}";

    public IReadOnlyList<string> AzureQueueNames() => Enumerable.Range(0, Queues).Select(AzureQueueName).ToArray();

    /// <summary>Orleans' cluster id: silos with the same id and database form one cluster.</summary>
    public string ClusterId { get; init; } = "recsys";

    /// <summary>Names this silo in membership, logs and the broker's connection list; host and process id by default.</summary>
    public string? SiloName { get; init; }

    /// <summary>Port silos talk to each other on (Orleans' silo port).</summary>
    public int SiloPort { get; init; } = 11111;

    /// <summary>The address other silos reach this one at; 127.0.0.1 unless set (Kubernetes hosting sets the pod IP).</summary>
    public string? AdvertisedAddress { get; init; }

    /// <summary>Running in a Kubernetes pod: Orleans' Kubernetes hosting names the silo and its address from the pod.</summary>
    public bool Kubernetes { get; init; }

    /// <summary>
    /// Event queues (RabbitMQ quorum queues) the stream is spread over: the unit Orleans' queue balancer moves between
    /// worker silos. Every silo of a cluster must agree.
    /// </summary>
    public int Queues { get; init; } = 8;

    /// <summary>Names the queues (prefix), so several clusters can share a broker.</summary>
    public string StreamName { get; init; } = "recsys.events";

    /// <summary>Unacknowledged messages a silo holds per queue: the events in flight to grains.</summary>
    public ushort Prefetch { get; init; } = 256;

    /// <summary>AMQP heartbeat: a hung silo loses its queues' deliveries after about twice this.</summary>
    public TimeSpan Heartbeat { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Publishes in flight per silo before POST /v1/events waits for confirmations to come back.</summary>
    public int MaxPublishesInFlight { get; init; } = 1024;

    /// <summary>How long POST /v1/events waits for the broker's confirmation before answering 503.</summary>
    public TimeSpan PublishTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a grain call may take before the caller gives up. Short, because calls in flight to a silo that died
    /// wait this long even after it is declared dead.
    /// </summary>
    public TimeSpan ResponseTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>How long a silo must go unanswered on probes before it is voted dead (Orleans' ProbeTimeout).</summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long the stream keeps retrying a delivery a grain cannot take before the message goes back to the broker.</summary>
    public TimeSpan MaxDeliveryTime { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Database connections in this silo's pool, unless the connection string sets Maximum Pool Size.</summary>
    public int DatabaseConnections { get; init; } = 24;

    /// <summary>Longest wait between attempts while the database is unreachable.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Graceful shutdown: grains deactivated, queues handed over, within this.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a silo picks up catalogue changes other gateways stored.</summary>
    public TimeSpan CatalogueRefreshInterval { get; init; } = TimeSpan.FromSeconds(2);

    public string EffectiveSiloName => SiloName ?? $"{Environment.MachineName}-{Environment.ProcessId}";

    public IReadOnlyCollection<string> RoleSet => SiloRoles.Parse(Roles);

    /// <summary>Throws with a message naming the setting when the options cannot work.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Postgres))
        {
            throw new ArgumentException("cluster mode needs Recsys:Cluster:Postgres (--postgres or RECSYS_POSTGRES), an Npgsql connection string");
        }
        if (Storage is not (StorageKinds.Postgres or StorageKinds.AzureTable or StorageKinds.AzureBlob))
        {
            throw new ArgumentException($"Recsys:Cluster:Storage must be postgres, azure-table or azure-blob, not '{Storage}'");
        }
        if (Streams is not (StreamKinds.RabbitMq or StreamKinds.AzureQueue))
        {
            throw new ArgumentException($"Recsys:Cluster:Streams must be rabbitmq or azure-queue, not '{Streams}'");
        }
        if (Streams == StreamKinds.RabbitMq &&
            (string.IsNullOrWhiteSpace(RabbitMq) || !Uri.TryCreate(RabbitMq, UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "amqps")))
        {
            throw new ArgumentException("cluster mode needs Recsys:Cluster:RabbitMq (--rabbitmq or RECSYS_RABBITMQ), an amqp:// URI");
        }
        if (UsesAzure && string.IsNullOrWhiteSpace(AzureStorage))
        {
            throw new ArgumentException($"Recsys:Cluster:Storage={Storage} and Streams={Streams} need Recsys:Cluster:AzureStorage, an Azure Storage connection string");
        }
        if (AzureStateName.Length is < 3 or > 63 || !char.IsAsciiLetterLower(AzureStateName[0]) ||
            !AzureStateName.All(static c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c)))
        {
            throw new ArgumentException($"Recsys:Cluster:AzureStateName must be 3 to 63 lower-case letters and digits, starting with a letter, not '{AzureStateName}'");
        }
        if (Streams == StreamKinds.AzureQueue && !System.Text.RegularExpressions.Regex.IsMatch(AzureQueueName(0), "^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$"))
        {
            throw new ArgumentException($"Recsys:Cluster:StreamName '{StreamName}' does not make valid Azure queue names ('{AzureQueueName(0)}'): letters, digits, dots and single hyphens");
        }
        if (AzureQueueVisibilityTimeout < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentException("Recsys:Cluster:AzureQueueVisibilityTimeout must be at least 1 s");
        }
        _ = RoleSet; // throws naming the bad role
        if (Queues is < 1 or > 1024)
        {
            throw new ArgumentException($"Recsys:Cluster:Queues must be between 1 and 1024, not {Queues}");
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
        if (SiloPort is < 1 or > 65535)
        {
            throw new ArgumentException($"Recsys:Cluster:SiloPort must be a TCP port, not {SiloPort}");
        }
        if (AdvertisedAddress is not null && !System.Net.IPAddress.TryParse(AdvertisedAddress, out _))
        {
            throw new ArgumentException($"Recsys:Cluster:AdvertisedAddress must be an IP address, not '{AdvertisedAddress}'");
        }
    }
}
