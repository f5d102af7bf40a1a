using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Recsys.Domain.Simulation;
using Recsys.ServiceDefaults;
using Recsys.Silo;
using Recsys.Silo.State;

namespace Recsys.Gateway.Hosting;

/// <summary>How <c>serve</c> was asked to run.</summary>
public sealed record ServeSettings
{
    public string Urls { get; init; } = "http://localhost:8080";

    /// <summary>From --api-key or RECSYS_API_KEY; null lets a local demo generate one.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Load a generated shop (catalogue and shopping history) at start.</summary>
    public bool Demo { get; init; }

    public ShopOptions DemoShop { get; init; } = new();

    public int DemoEvents { get; init; } = 60_000;

    /// <summary>Cluster mode (PostgreSQL and RabbitMQ, settings under Recsys:Cluster) instead of the embedded default.</summary>
    public bool ClusterMode { get; init; }

    /// <summary>Raw arguments for configuration overrides (--Recsys:Silo:Users:WindowCapacity=50 and the like).</summary>
    public IReadOnlyList<string> ConfigurationArgs { get; init; } = [];
}

/// <summary>
/// Composes the embedded default: gateway, actor host and recommender in one process with in-memory
/// state. The CLI's <c>serve</c> and the functional tests build the same application.
/// </summary>
public static class EmbeddedServer
{
    public const string ApiKeyEnvironmentVariable = "RECSYS_API_KEY";

    public static WebApplication Build(ServeSettings settings, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [.. settings.ConfigurationArgs] });
        builder.WebHost.UseUrls(settings.Urls);
        builder.WebHost.UseKestrel(kestrel => kestrel.AddServerHeader = false);
        builder.AddServiceDefaults();

        // The main key (--api-key or RECSYS_API_KEY) has every scope; Recsys:Gateway:Keys adds keys with fewer.
        var configured = builder.Configuration.Bind("Recsys:Gateway", new GatewayOptions());
        var apiKey = settings.ApiKey ?? Environment.GetEnvironmentVariable(ApiKeyEnvironmentVariable);
        var generatedKey = false;
        if (string.IsNullOrEmpty(apiKey) && configured.Keys.Count == 0)
        {
            if (!settings.Demo || !IsLoopbackOnly(settings.Urls))
            {
                throw new InvalidOperationException(
                    $"no API key: set {ApiKeyEnvironmentVariable} (at least 16 characters) or Recsys:Gateway:Keys. Only 'serve --demo' on localhost makes one up.");
            }
            apiKey = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            generatedKey = true;
        }
        var gatewayOptions = configured with
        {
            Keys = string.IsNullOrEmpty(apiKey) ? configured.Keys : [.. configured.Keys, new ApiKey { Key = apiKey, Scopes = ApiScopes.All }],
        };
        var siloOptions = builder.Configuration.Bind("Recsys:Silo", new SiloOptions());
        if (gatewayOptions.MaxEventsPerRequest > siloOptions.Users.DedupHorizon)
        {
            // Exactly-once holds for any batch resent whole only when a user remembers at least a batch of ids.
            throw new InvalidOperationException($"Recsys:Gateway:MaxEventsPerRequest ({gatewayOptions.MaxEventsPerRequest}) must not exceed "
                + $"Recsys:Silo:Users:DedupHorizon ({siloOptions.Users.DedupHorizon}): a batch resent whole must be recognised");
        }

        builder.AddGateway(gatewayOptions);
        builder.Services.AddSingleton(siloOptions);
        builder.Logging.AddFilter("Polly", LogLevel.Warning); // Orleans' placement retries log every attempt at Information
        Cluster.ClusterModeOptions? cluster = null;
        if (settings.ClusterMode)
        {
            if (settings.Demo)
            {
                throw new InvalidOperationException("--demo runs the embedded default; in cluster mode load data with 'recsys import' against the gateway");
            }
            cluster = builder.AddClusterSilo(siloOptions);
        }
        else
        {
            builder.AddEmbeddedSilo(siloOptions);
        }
        builder.Services.AddSingleton<SiloReadiness>();
        builder.Services.AddHealthChecks().AddCheck<SiloReadinessCheck>("silo", tags: [ServiceDefaultsExtensions.ReadyTag]);
        builder.Services.AddSingleton(new StartupData(settings.Demo ? settings.DemoShop : null, settings.DemoEvents, generatedKey ? apiKey : null));
        builder.Services.AddHostedService<StartupDataLoader>();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.UseRecsysMiddleware();
        if (cluster is not null)
        {
            app.MapClusterEndpoints();
        }
        if (cluster is null || cluster.RoleSet.Contains(Grains.SiloRoles.Gateway))
        {
            app.MapRecsysApi();
        }
        return app;
    }

    private static bool IsLoopbackOnly(string urls) =>
        urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).All(static url =>
            Uri.TryCreate(url, UriKind.Absolute, out var uri) &&
            (uri.IsLoopback || (IPAddress.TryParse(uri.Host, out var address) && IPAddress.IsLoopback(address))));
}

/// <summary>Ready once start-up data is loaded; the reason otherwise.</summary>
internal sealed class SiloReadinessCheck(SiloReadiness readiness) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(readiness.IsReady
            ? HealthCheckResult.Healthy("embedded silo ready")
            : HealthCheckResult.Unhealthy(readiness.NotReadyReason));
}
