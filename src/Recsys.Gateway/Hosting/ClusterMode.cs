using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Recsys.Cluster;
using Recsys.Contracts;
using Recsys.ServiceDefaults;
using Recsys.Silo;
using Recsys.Silo.Serving;
using Recsys.Silo.State;

namespace Recsys.Gateway.Hosting;

/// <summary>Composes a cluster-mode silo: PostgreSQL state, the RabbitMQ stream, and the gateway and/or worker role.</summary>
public static class ClusterMode
{
    public static ClusterOptions AddClusterSilo(this WebApplicationBuilder builder, SiloOptions siloOptions)
    {
        var options = builder.Configuration.Bind("Recsys:Cluster", new ClusterOptions());
        options.Validate();
        var services = builder.Services;
        services.AddSingleton(options);
        services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownTimeout + TimeSpan.FromSeconds(5));
        // The worker's store retries an unreachable database for as long as it takes (its commits must land before the ack);
        // the gateway's reads give up after a short budget and answer from what they have.
        services.AddSingleton(sp => new PostgresStateStore(options.Postgres!, Logger(sp, "Recsys.Cluster.State"), options.MaxRetryDelay,
            options.DatabaseConnections));
        services.AddSingleton<IStateStore>(sp => sp.GetRequiredService<PostgresStateStore>());
        services.AddKeyedSingleton("reads", (sp, _) => new PostgresStateStore(options.Postgres!, Logger(sp, "Recsys.Cluster.State"), options.MaxRetryDelay,
            options.DatabaseConnections)
        {
            RetryBudget = options.ReadRetryBudget,
        });
        services.AddSingleton(sp => new EmbeddedCluster(siloOptions, sp.GetRequiredService<IStateStore>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton<ClusterSilo>();
        // A worker-only silo maps no /v1 API, so only start-up code sees this there.
        services.AddSingleton<IFrontend>(sp => (IFrontend?)sp.GetRequiredService<ClusterSilo>().Client ?? sp.GetRequiredService<EmbeddedCluster>());
        services.AddHostedService(sp => sp.GetRequiredService<ClusterSilo>());
        services.AddHealthChecks().AddCheck<ClusterHealthCheck>("cluster", tags: [ServiceDefaultsExtensions.ReadyTag]);
        return options;
    }

    public static RouteGroupBuilder MapClusterEndpoints(this WebApplication app)
    {
        var v1 = app.MapGroup("/v1").WithTags("v1");
        v1.MapGet("/admin/cluster", (ClusterSilo silo) => TypedResults.Json(silo.Status(), ApiJsonContext.Default.ClusterStatusResponse))
            .RequireApiKey()
            .Produces<ClusterStatusResponse>()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .WithTags("admin")
            .WithName("ClusterStatus")
            .WithSummary("This silo's role, the event partitions it owns and what it applied");
        return v1;
    }

    private static ILogger Logger(IServiceProvider services, string category) => services.GetRequiredService<ILoggerFactory>().CreateLogger(category);
}

/// <summary>
/// The cluster roles' lifecycle: migrate the schema, connect the publisher (gateway) and consumers (worker), follow
/// catalogue changes; on stop, turn not-ready at once, then let the worker commit what it holds and hand its
/// partitions over before the process exits.
/// </summary>
public sealed class ClusterSilo : BackgroundService, IAsyncDisposable
{
    private readonly ClusterOptions _options;
    private readonly EmbeddedCluster _local;
    private readonly PostgresStateStore _store;
    private readonly PostgresStateStore _readStore;
    private readonly SiloReadiness _readiness;
    private readonly ILogger _logger;
    private readonly EventPublisher? _publisher;
    private readonly ClusterWorker? _worker;
    private readonly CatalogueSync _catalogue;
    private volatile bool _started;

    public ClusterSilo(ClusterOptions options, EmbeddedCluster local, PostgresStateStore store, [FromKeyedServices("reads")] PostgresStateStore readStore,
        SiloReadiness readiness, IHostApplicationLifetime lifetime, ILoggerFactory loggers)
    {
        _options = options;
        _local = local;
        _store = store;
        _readStore = readStore;
        _readiness = readiness;
        _logger = loggers.CreateLogger("Recsys.Cluster.Silo");
        _catalogue = new CatalogueSync(store, local);
        if (options.RunsGateway)
        {
            _publisher = new EventPublisher(options, loggers.CreateLogger("Recsys.Cluster.Publisher"));
            Client = new ClusterClient(local, _publisher, store, options);
        }
        if (options.RunsWorker)
        {
            _worker = new ClusterWorker(options, local.Users, loggers.CreateLogger("Recsys.Cluster.Worker"));
        }
        // Readers go to the store: the owning actor may be in another silo, and a local one may be stale.
        local.StateReader = new StoreUserStateReader(readStore, local.Services.Codec, loggers.CreateLogger("Recsys.Cluster.Reads"));
        if (options.RunsGateway && options.GatewayIntentCacheUsers > 0)
        {
            local.RemoteIntents = new IntentSlotCache(options.GatewayIntentCacheUsers);
        }
        lifetime.ApplicationStopping.Register(() => readiness.NotReady("stopping: finishing in-flight work and handing partitions over"));
        _meter.CreateObservableCounter("recsys.stream.events.applied", () => _worker?.Counters.Applied ?? 0, "{event}",
            "Events this worker applied from the stream (first time seen)");
        _meter.CreateObservableCounter("recsys.stream.events.duplicates", () => _worker?.Counters.Duplicates ?? 0, "{event}",
            "Redelivered or replayed events this worker recognised and dropped");
        _meter.CreateObservableCounter("recsys.stream.messages.published", () => _publisher?.Published ?? 0, "{message}",
            "Messages this gateway published and the broker confirmed");
        _meter.CreateObservableGauge("recsys.partitions.owned", () => _worker?.OwnedPartitions.Count ?? 0, "{partition}", "Event partitions this silo owns");
        _meter.CreateObservableGauge("recsys.silos.live", () => _worker?.LiveSilos ?? 0, "{silo}", "Worker silos subscribed to the stream");
    }

    private readonly System.Diagnostics.Metrics.Meter _meter = new("Recsys.Cluster");

    public ClusterClient? Client { get; }

    /// <summary>Null when ready; else what is missing.</summary>
    public string? NotReadyReason =>
        !_started ? "connecting to PostgreSQL and RabbitMQ"
        : !_store.IsReachable ? $"PostgreSQL unreachable: {_store.LastError}"
        : _publisher is { IsConnected: false } ? "RabbitMQ connection lost (publisher)"
        : _worker is { IsConnected: false } ? "RabbitMQ connection lost (worker)"
        : null;

    public ClusterStatusResponse Status() => new(
        _options.EffectiveSiloName, _options.Role.ToString().ToLowerInvariant(), _options.Partitions, _worker?.OwnedPartitions ?? [],
        _worker?.LiveSilos ?? 0, _worker?.Counters.Applied ?? 0, _worker?.Counters.Duplicates ?? 0, _publisher?.Published ?? 0,
        _store.IsReachable && _readStore.IsReachable);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _logger.LogInformation("Silo {Silo} starting in cluster mode as {Role}: {Partitions} partitions on {Stream}", _options.EffectiveSiloName,
            _options.Role, _options.Partitions, _options.StreamName);
        await _store.MigrateAsync(stoppingToken);
        var items = await _catalogue.RefreshAsync(stoppingToken);
        if (_publisher is not null)
        {
            await _publisher.StartAsync(stoppingToken);
        }
        if (_worker is not null)
        {
            await _worker.StartAsync(stoppingToken);
        }
        _started = true;
        _logger.LogInformation("Silo {Silo} connected ({Items} catalogue items loaded)", _options.EffectiveSiloName, items);
        using var timer = new PeriodicTimer(_options.CatalogueRefreshInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await _catalogue.RefreshAsync(stoppingToken);
            }
            catch (ServiceUnavailableException)
            {
                // readiness shows the outage; the next tick tries again
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await base.StopAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
        if (_worker is not null)
        {
            await _worker.StopAsync();
            await _worker.DisposeAsync();
        }
        _logger.LogInformation("Silo {Silo} stopped", _options.EffectiveSiloName);
    }

    /// <summary>
    /// The publisher closes last, when the host is disposed: the web server stops after this service, and requests it
    /// is still finishing must be able to publish.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_publisher is not null)
        {
            await _publisher.DisposeAsync();
        }
        _meter.Dispose();
        Dispose();
    }
}

internal sealed class ClusterHealthCheck(ClusterSilo silo) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(silo.NotReadyReason is { } reason ? HealthCheckResult.Unhealthy(reason) : HealthCheckResult.Healthy("cluster mode connected"));
}
