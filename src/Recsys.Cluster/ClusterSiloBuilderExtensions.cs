using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Streams;
using Recsys.Cluster.AzureStorage;
using Recsys.Cluster.Streams;
using Recsys.Grains;
using Recsys.Silo.State;

namespace Recsys.Cluster;

public static class ClusterSiloBuilderExtensions
{
    /// <summary>
    /// A silo of a real cluster: Orleans membership in PostgreSQL (our schema, the ADO.NET provider), user state in
    /// PostgreSQL through our grain storage (or Orleans' Azure Table/Blob storage), the event stream on RabbitMQ
    /// through our queue adapter (or Orleans' Azure Queue provider), with queues balanced over the worker silos. Membership and timeouts are tuned so a dead silo's users answer again from
    /// another silo within seconds rather than the defaults' half minute.
    /// </summary>
    public static ISiloBuilder AddRecsysCluster(this ISiloBuilder silo, ClusterModeOptions options)
    {
        silo.Configure<ClusterOptions>(cluster =>
        {
            cluster.ClusterId = options.ClusterId;
            cluster.ServiceId = options.ClusterId;
        });
        silo.Configure<EndpointOptions>(endpoints =>
        {
            endpoints.SiloPort = options.SiloPort;
            endpoints.GatewayPort = 0; // no external Orleans clients: the HTTP API is co-hosted
        });
        if (options.Kubernetes)
        {
            // The pod's name and IP (downward API), and the pods of the cluster watched through the API server.
            silo.UseKubernetesHosting();
        }
        else
        {
            var address = IPAddress.Parse(options.AdvertisedAddress ?? "127.0.0.1");
            silo.Configure<SiloOptions>(o => o.SiloName = options.EffectiveSiloName);
            silo.Configure<EndpointOptions>(endpoints => endpoints.AdvertisedIPAddress = address);
        }
        silo.UseAdoNetClustering(clustering =>
        {
            clustering.Invariant = "Npgsql";
            clustering.ConnectionString = options.Postgres;
        });
        silo.Configure<ClusterMembershipOptions>(membership =>
        {
            membership.ProbeTimeout = options.ProbeTimeout;
            membership.NumMissedProbesLimit = 2;
            membership.NumVotesForDeathDeclaration = 2;
            membership.DeathVoteExpirationTimeout = TimeSpan.FromSeconds(10);
            membership.TableRefreshTimeout = TimeSpan.FromSeconds(5);
        });
        silo.Configure<SiloMessagingOptions>(messaging => messaging.ResponseTimeout = options.ResponseTimeout);

        var services = silo.Services;
        services.AddSingleton(options);
        services.AddSingleton(sp => new PostgresStateStore(options.Postgres!, sp.GetRequiredService<ILoggerFactory>().CreateLogger("Recsys.Cluster.State"),
            options.MaxRetryDelay, options.DatabaseConnections));
        services.AddSingleton<IStateStore>(sp => sp.GetRequiredService<PostgresStateStore>());
        if (options.Storage == StorageKinds.Postgres)
        {
            silo.AddUserStateStorage();
        }
        else
        {
            silo.AddAzureUserStateStorage(options);
        }
        services.AddSingleton<WorkerSiloDeployment>();
        services.AddSingleton<QueueAssignment>();
        services.AddSingleton<ClusterStartup>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<ClusterStartup>());
        return options.Streams == StreamKinds.RabbitMq ? silo.AddRabbitMqEventStream(options) : silo.AddAzureQueueEventStream(options);
    }

    /// <summary>The event stream on RabbitMQ quorum queues through our queue adapter.</summary>
    private static ISiloBuilder AddRabbitMqEventStream(this ISiloBuilder silo, ClusterModeOptions options)
    {
        silo.Services.AddSingleton<RabbitMqConnector>();
        silo.Services.AddSingleton<RabbitMqQueueAdapter>();
        silo.Services.AddSingleton<IEventStreamBroker>(static sp => sp.GetRequiredService<RabbitMqQueueAdapter>());
        silo.AddPersistentStreams(EventStreams.ProviderName, RabbitMqQueueAdapterFactory.Create, stream =>
        {
            stream.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly);
            stream.ConfigurePartitionBalancing(static (sp, _) => ActivatorUtilities.CreateInstance<WorkerQueueBalancer>(sp));
            stream.ConfigurePullingAgent(agent => agent.Configure(o =>
            {
                // Look at an idle queue often: the receiver's buffer is in memory, so a look costs next to nothing,
                // and it bounds how long a confirmed event waits before its grain sees it.
                o.GetQueueMsgsTimerPeriod = TimeSpan.FromMilliseconds(10);
                o.MaxEventDeliveryTime = options.MaxDeliveryTime;
            }));
        });
        return silo;
    }
}
