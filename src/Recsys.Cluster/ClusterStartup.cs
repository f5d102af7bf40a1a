using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Recsys.Cluster.Streams;

namespace Recsys.Cluster;

/// <summary>
/// What a cluster silo needs before Orleans' runtime starts: the database schema (membership reads its tables the
/// moment the runtime initialises) and the event queues on the broker. Both wait for their service to answer, so
/// silos, database and broker may start in any order.
/// </summary>
public sealed class ClusterStartup(PostgresStateStore store, IEventStreamBroker stream, ClusterModeOptions options,
    ILogger<ClusterStartup> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ClusterStartup), ServiceLifecycleStage.RuntimeInitialize - 1, StartAsync);

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        logger.LogInformation("Silo {Silo} joining cluster {Cluster} as {Roles}: migrating the database, preparing {Queues} event queues on {Broker}, user state in {Storage}",
            options.EffectiveSiloName, options.ClusterId, options.Roles, options.Queues, stream.Name, options.Storage);
        await store.MigrateAsync(cancellationToken);
        await stream.StartAsync(cancellationToken);
    }
}
