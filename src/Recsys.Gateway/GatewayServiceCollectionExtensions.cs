using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Recsys.Contracts;
using Recsys.Domain.Catalogue;
using Recsys.Domain.Events;
using Recsys.Domain.Recommendation;
using Recsys.Gateway.Endpoints;
using Recsys.Silo;

namespace Recsys.Gateway;

public static class GatewayServiceCollectionExtensions
{

    /// <summary>The gateway's services: options, validators, API keys, rate limiting, JSON, OpenAPI, error mapping.</summary>
    public static IHostApplicationBuilder AddGateway(this IHostApplicationBuilder builder, GatewayOptions options)
    {
        options.Validate();
        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(new RecommendationId(RecommendationIdSecret(options)));
        services.AddSingleton(sp => new EventValidator(new EventValidationOptions(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<RecommendationId>()));
        services.AddSingleton(new CatalogueItemValidator());
        services.AddSingleton<ApiKeyValidator>();
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default));
        services.AddExceptionHandler<GatewayExceptionHandler>();
        services.AddOpenApi();
        return builder;
    }

    /// <summary>
    /// An endpoint for keys with <paramref name="scope"/> (401 without a valid key, 403 with one that lacks it), under
    /// the per-key rate limit of reads (GET) or writes. <paramref name="publicAccess"/> also lets keyless requests in.
    /// </summary>
    public static RouteHandlerBuilder RequireScope(this RouteHandlerBuilder endpoint, ApiScopes scope, bool publicAccess = false) =>
        endpoint.WithMetadata(new RequiredScope(scope, publicAccess)) // checked by ApiScopeMiddleware
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

    /// <summary>The middleware every /v1 endpoint relies on (problem details, keys and rate limits) and the OpenAPI document.</summary>
    public static WebApplication UseRecsysMiddleware(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages(WriteStatusCodeProblemAsync);
        app.UseMiddleware<ApiScopeMiddleware>();
        app.MapOpenApi("/openapi/{documentName}.json");
        return app;
    }

    /// <summary>The /v1 API; call after <see cref="UseRecsysMiddleware"/>.</summary>
    public static WebApplication MapRecsysApi(this WebApplication app)
    {
        var v1 = app.MapGroup("/v1").WithTags("v1");
        var options = app.Services.GetRequiredService<GatewayOptions>();
        v1.MapEventEndpoints();
        v1.MapItemEndpoints(options.PublicRecommendations);
        v1.MapUserEndpoints(options.PublicRecommendations);
        v1.MapAdminEndpoints();
        return app;
    }

    /// <summary>Answers the framework's own rejections (no route, wrong method, wrong content type) with actionable problems.</summary>
    private static async Task WriteStatusCodeProblemAsync(StatusCodeContext status)
    {
        var context = status.HttpContext;
        var detail = context.Response.StatusCode switch
        {
            StatusCodes.Status404NotFound => $"nothing is served at {context.Request.Path}; the API is under /v1 (see /openapi/v1.json)",
            StatusCodes.Status405MethodNotAllowed => $"{context.Request.Method} is not allowed on {context.Request.Path}",
            StatusCodes.Status415UnsupportedMediaType => "send the body as JSON with the header Content-Type: application/json",
            _ => null,
        };
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = context.Response.StatusCode, Detail = detail },
        });
    }

    /// <summary>The configured secret, or one derived from the keys (every gateway of a cluster shares them).</summary>
    private static byte[] RecommendationIdSecret(GatewayOptions options) =>
        System.Text.Encoding.UTF8.GetBytes(options.RecommendationIdSecret
            ?? "recsys recommendation ids|" + string.Join("|", options.Keys.Select(static k => k.Key).Order(StringComparer.Ordinal)));

    /// <summary>Binds a configuration section onto defaults, so unset keys keep their defaults.</summary>
    public static T Bind<T>(this IConfiguration configuration, string section, T defaults) where T : class
    {
        configuration.GetSection(section).Bind(defaults);
        return defaults;
    }
}

/// <summary>Maps the exceptions that have a meaning for clients to problem details; the rest become a 500.</summary>
internal sealed class GatewayExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        switch (exception)
        {
            case OperationCanceledException when context.RequestAborted.IsCancellationRequested:
                context.Response.StatusCode = 499; // the client went away; nobody reads an answer
                return true;
            case ServiceUnavailableException unavailable:
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                context.Response.Headers.RetryAfter = "1";
                return await problems.TryWriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context,
                    ProblemDetails = { Title = "Service unavailable", Detail = unavailable.Message, Status = StatusCodes.Status503ServiceUnavailable },
                });
            case BadHttpRequestException bad:
                context.Response.StatusCode = bad.StatusCode;
                return await problems.TryWriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context,
                    ProblemDetails = { Title = "Bad request", Detail = bad.Message, Status = bad.StatusCode },
                });
            default:
                return false;
        }
    }
}
