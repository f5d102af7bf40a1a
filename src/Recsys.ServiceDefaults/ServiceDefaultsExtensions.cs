using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Recsys.ServiceDefaults;

public static class ServiceDefaultsExtensions
{
    /// <summary>Health checks tagged with this take part in /healthz (the process is alive).</summary>
    public const string LiveTag = "live";

    /// <summary>Health checks tagged with this take part in /readyz (the process should get traffic).</summary>
    public const string ReadyTag = "ready";

    /// <summary>The telemetry settings, bound from "Recsys:Telemetry".</summary>
    public static TelemetryOptions TelemetryOptions(this IHostApplicationBuilder builder)
    {
        var options = new TelemetryOptions();
        builder.Configuration.GetSection("Recsys:Telemetry").Bind(options);
        return options;
    }

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(options =>
        {
            options.SingleLine = true;
            options.TimestampFormat = "HH:mm:ss.fff ";
            options.UseUtcTimestamp = true;
            options.IncludeScopes = true; // carries the trace and span ids of the request a line belongs to
        });
        builder.Logging.Configure(options => options.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        var telemetryOptions = builder.TelemetryOptions();
        builder.Services.AddSingleton(telemetryOptions);
        builder.Services.AddSingleton(sp => new RecsysTelemetry(telemetryOptions, builder.Configuration));
        builder.Services.AddHostedService<TelemetryStarter>();
        builder.Services.AddSingleton<RequestMetrics>();
        // Request-level framework logs would repeat what metrics say, at a cost per request.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning);
        builder.Services.AddProblemDetails();
        builder.Services.AddHealthChecks().AddCheck("process", () => HealthCheckResult.Healthy("the process answers"), [LiveTag]);
        return builder;
    }

    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.UseMiddleware<RequestTelemetryMiddleware>();
        app.MapHealthChecks("/healthz", new HealthCheckOptions
        {
            Predicate = static check => check.Tags.Contains(LiveTag),
            ResponseWriter = WriteHealthAsync,
        }).WithTags("health");
        app.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = static check => check.Tags.Contains(ReadyTag),
            ResponseWriter = WriteHealthAsync,
        }).WithTags("health");
        if (app.Services.GetRequiredService<TelemetryOptions>().PrometheusEndpoint)
        {
            app.MapGet("/metrics", static (RecsysTelemetry telemetry) =>
                    Results.Text(telemetry.ScrapePrometheus(), "text/plain; version=0.0.4; charset=utf-8"))
                .WithTags("health")
                .WithSummary("Metrics in the Prometheus text format, for scraping")
                .ExcludeFromDescription();
        }
        return app;
    }

    /// <summary>Builds the providers at start, so metrics count from the first request rather than the first scrape.</summary>
    private sealed class TelemetryStarter(RecsysTelemetry telemetry) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.FromResult(telemetry.Tracing);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private static async Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        await using var writer = new Utf8JsonWriter(context.Response.Body);
        writer.WriteStartObject();
        writer.WriteString("status", report.Status.ToString());
        writer.WriteStartObject("checks");
        foreach (var (name, entry) in report.Entries)
        {
            writer.WriteStartObject(name);
            writer.WriteString("status", entry.Status.ToString());
            if (entry.Description is not null)
            {
                writer.WriteString("description", entry.Description);
            }
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted);
    }
}
