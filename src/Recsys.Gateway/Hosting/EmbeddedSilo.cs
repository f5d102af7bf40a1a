using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Recsys.Grains;
using Recsys.Silo;

namespace Recsys.Gateway.Hosting;

/// <summary>
/// The embedded default as an Orleans silo co-hosted with the gateway: every role in one process, localhost
/// clustering, user state in process memory (our grain storage over the in-memory store); no external service.
/// </summary>
public static class EmbeddedSilo
{
    public const string ClusterId = "recsys-embedded";

    public static WebApplicationBuilder AddEmbeddedSilo(this WebApplicationBuilder builder, Recsys.Silo.SiloOptions options)
    {
        builder.UseOrleans(silo =>
        {
            // Nobody joins an embedded silo: any free port does, so several can run side by side.
            silo.UseLocalhostClustering(siloPort: FreeLoopbackPort(), gatewayPort: 0, serviceId: ClusterId, clusterId: ClusterId);
            // User records in process memory, stored as encoded (no serializer, no storage grain in between), written
            // when a grain deactivates (UserCommitPolicy).
            silo.Services.AddSingleton<Silo.State.IStateStore, Silo.State.InMemoryStateStore>();
            silo.Services.AddSingleton(UserCommitPolicy.InProcessMemory);
            silo.AddUserStateStorage();
            silo.PropagateTracesWhenExported(builder);
            silo.AddRecsysGrains(SiloRoles.All);
            silo.CollectIdleGrains(options.Grains);
            // One silo holds every activation and the whole directory: a cache of grain addresses would repeat the
            // directory, at about 150 bytes per resident user.
            silo.Configure<GrainDirectoryOptions>(directory => directory.CachingStrategy = GrainDirectoryOptions.CachingStrategyType.None);
        });
        // Orleans reports its own start and membership at Information; a one-silo demo only needs its warnings.
        builder.Logging.AddFilter("Orleans", LogLevel.Warning);
        builder.Services.AddSingleton<IEventIngress, GrainEventIngress>();
        builder.Services.AddSingleton<ICatalogueWriter, LocalCatalogueWriter>();
        builder.Services.AddGrainFrontend(options);
        return builder;
    }

    /// <summary>What both the embedded default and a cluster silo serve the API with; the host adds ingress and catalogue.</summary>
    internal static IServiceCollection AddGrainFrontend(this IServiceCollection services, Recsys.Silo.SiloOptions options)
    {
        services.AddSingleton(sp => SiloServices.Create(options, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<GrainFrontend>();
        services.AddSingleton<IFrontend>(sp => sp.GetRequiredService<GrainFrontend>());
        return services;
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
