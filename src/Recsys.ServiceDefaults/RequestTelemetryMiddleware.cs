using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Recsys.ServiceDefaults;

/// <summary>
/// Per request: the latency histogram by route, method and status, and the HTTP attributes and a readable name on the
/// request's span (ASP.NET Core's own activity carries neither without the instrumentation package, which is not
/// available here).
/// </summary>
internal sealed class RequestTelemetryMiddleware(RequestDelegate next, RequestMetrics metrics)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "(unmatched)";
            var status = context.Response.StatusCode;
            metrics.Duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds,
                new KeyValuePair<string, object?>("http.request.method", context.Request.Method),
                new KeyValuePair<string, object?>("http.route", route),
                new KeyValuePair<string, object?>("http.response.status_code", status));
            if (Activity.Current is { IsAllDataRequested: true } span && span.Kind == ActivityKind.Server)
            {
                span.DisplayName = $"{context.Request.Method} {route}";
                span.SetTag("http.request.method", context.Request.Method);
                span.SetTag("http.route", route);
                span.SetTag("url.path", context.Request.Path.Value);
                span.SetTag("http.response.status_code", status);
            }
        }
    }
}

/// <summary>The HTTP instruments, one meter per host (a singleton disposed with it).</summary>
internal sealed class RequestMetrics : IDisposable
{
    public const string MeterName = "Recsys.Http";

    private readonly Meter _meter = new(MeterName);

    public RequestMetrics() =>
        Duration = _meter.CreateHistogram<double>("http.server.request.duration", "s", "Time to answer an HTTP request, by route, method and status",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });

    public Histogram<double> Duration { get; }

    public void Dispose() => _meter.Dispose();
}
