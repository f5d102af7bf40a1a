using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Recsys.Cluster;
using Recsys.Cluster.Streams;
using Recsys.Contracts;
using Recsys.Grains;
using Recsys.ServiceDefaults;
using Recsys.Silo;

namespace Recsys.Gateway.Hosting;

/// <summary>
/// Composes a silo of a real cluster: Orleans over PostgreSQL (membership, user state) and RabbitMQ (the event
/// stream), or Azure Storage for either, with the roles its configuration gives it. Gateways publish events to the stream; workers' user grains
/// consume them.
/// </summary>
public static class ClusterMode
{
    public static ClusterModeOptions AddClusterSilo(this WebApplicationBuilder builder, SiloOptions siloOptions)
    {
        var options = builder.Configuration.Bind("Recsys:Cluster", new ClusterModeOptions());
        options.Validate();
        SiloPortCheck.EnsureFree(options);
        builder.UseOrleans(silo =>
        {
            silo.AddRecsysCluster(options);
            silo.PropagateTracesWhenExported(builder);
            silo.AddRecsysGrains(options.RoleSet);
            silo.CollectIdleGrains(siloOptions.Grains);
        });
        var services = builder.Services;
        // Stopping deactivates every grain (each already committed) and hands the silo's queues over.
        services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownTimeout);
        services.AddSingleton<StreamEventIngress>();
        services.AddSingleton<IEventIngress>(static sp => sp.GetRequiredService<StreamEventIngress>());
        services.AddSingleton<CatalogueSync>();
        services.AddSingleton<ICatalogueWriter>(sp => sp.GetRequiredService<CatalogueSync>());
        services.AddHostedService(sp => sp.GetRequiredService<CatalogueSync>());
        services.AddGrainFrontend(siloOptions);
        services.AddSingleton<ClusterStatus>();
        services.AddHealthChecks().AddCheck<ClusterHealthCheck>("cluster", tags: [ServiceDefaultsExtensions.ReadyTag]);
        return options;
    }

    public static RouteGroupBuilder MapClusterEndpoints(this WebApplication app)
    {
        var v1 = app.MapGroup("/v1").WithTags("v1");
        v1.MapGet("/admin/cluster", (ClusterStatus status) => TypedResults.Json(status.Read(), ApiJsonContext.Default.ClusterStatusResponse))
            .RequireScope(ApiScopes.Admin)
            .Produces<ClusterStatusResponse>()
            .WithTags("admin")
            .WithName("ClusterStatus")
            .WithSummary("This silo's roles, the event queues it pulls, and the members it sees");
        return v1;
    }
}

/// <summary>This silo's part in the cluster, for the admin endpoint and readiness.</summary>
public sealed class ClusterStatus(
    ClusterModeOptions options,
    PostgresStateStore store,
    IEventStreamBroker stream,
    StreamEventIngress ingress,
    ActiveUsers active,
    IClusterMembershipService membership,
    Orleans.Runtime.MembershipService.SiloMetadata.ISiloMetadataCache metadata)
{
    public ClusterStatusResponse Read()
    {
        var members = membership.CurrentSnapshot.Members.Values
            .OrderBy(static m => m.Name, StringComparer.Ordinal)
            .Select(m => new Contracts.ClusterMember(m.Name, m.SiloAddress.ToString(), m.Status.ToString(),
                metadata.GetSiloMetadata(m.SiloAddress).Metadata.GetValueOrDefault(SiloRoles.MetadataKey)))
            .ToArray();
        return new ClusterStatusResponse(options.EffectiveSiloName, options.RoleSet.ToArray(), options.Queues, stream.PulledQueues, members,
            active.Count, active.EventsCommitted, ingress.Published, store.IsReachable, stream.IsConnected);
    }

    /// <summary>Null when ready; else what is missing.</summary>
    public string? NotReadyReason =>
        !store.IsReachable ? $"PostgreSQL unreachable: {store.LastError}"
        : !stream.IsConnected ? $"{stream.Name} unreachable"
        : null;
}

internal sealed class ClusterHealthCheck(ClusterStatus status) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(status.NotReadyReason is { } reason ? HealthCheckResult.Unhealthy(reason) : HealthCheckResult.Healthy("cluster mode connected"));
}
