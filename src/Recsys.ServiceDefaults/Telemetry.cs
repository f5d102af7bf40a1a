using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Recsys.ServiceDefaults;

/// <summary>Telemetry settings, bound from "Recsys:Telemetry".</summary>
public sealed record TelemetryOptions
{
    /// <summary>The service name on every span and metric (service.name).</summary>
    public string ServiceName { get; init; } = "recsys";

    /// <summary>OTLP endpoint (gRPC, e.g. http://otel-collector:4317); the standard OTEL_EXPORTER_OTLP_ENDPOINT works too.</summary>
    public string? OtlpEndpoint { get; init; }

    /// <summary>Writes every sampled span as one JSON line to this file (a console collector in a file; for debugging and tests).</summary>
    public string? TraceFile { get; init; }

    /// <summary>Share of requests traced when a trace exporter is configured; a caller's sampled trace context is always followed.</summary>
    public double TraceSampleRatio { get; init; } = 0.1;

    /// <summary>Serves the Prometheus text format at GET /metrics.</summary>
    public bool PrometheusEndpoint { get; init; } = true;

    /// <summary>The OTLP endpoint from the settings or the standard environment variable.</summary>
    public string? OtlpEndpointIn(IConfiguration configuration) => OtlpEndpoint ?? configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];

    /// <summary>Whether spans leave the process at all (OTLP or a trace file); without that nobody needs them made.</summary>
    public bool ExportsTraces(IConfiguration configuration) => OtlpEndpointIn(configuration) is not null || TraceFile is not null;
}

/// <summary>The SDK wired directly (OpenTelemetry.Extensions.Hosting is not available here): providers built once, disposed with the host.</summary>
public sealed class RecsysTelemetry : IDisposable
{
    /// <summary>Our own activity sources and meters are named "Recsys.*".</summary>
    public const string Prefix = "Recsys.";

    private readonly TracerProvider? _tracing;
    private readonly MeterProvider _metrics;
    private readonly BaseExportingMetricReader _scrapeReader;
    private readonly PrometheusTextExporter _scrapeExporter = new();

    public RecsysTelemetry(TelemetryOptions options, IConfiguration configuration)
    {
        var resource = ResourceBuilder.CreateDefault().AddService(options.ServiceName, serviceInstanceId: Environment.MachineName + "-" + Environment.ProcessId);
        var otlp = options.OtlpEndpointIn(configuration);
        if (options.ExportsTraces(configuration))
        {
            var tracing = Sdk.CreateTracerProviderBuilder()
                .SetResourceBuilder(resource)
                // ASP.NET Core's own request activity is each trace's root; Orleans' grain calls carry it across silos.
                .AddSource(Prefix + "*", "Microsoft.AspNetCore", "Microsoft.Orleans.Application", "Microsoft.Orleans.Runtime")
                .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(options.TraceSampleRatio)));
            if (otlp is not null)
            {
                tracing.AddOtlpExporter(exporter => exporter.Endpoint = new Uri(otlp));
            }
            if (options.TraceFile is not null)
            {
                tracing.AddProcessor(new BatchActivityExportProcessor(new JsonLinesSpanExporter(options.TraceFile), scheduledDelayMilliseconds: 200));
            }
            _tracing = tracing.Build();
        }
        _scrapeReader = new BaseExportingMetricReader(_scrapeExporter) { TemporalityPreference = MetricReaderTemporalityPreference.Cumulative };
        var metrics = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(Prefix + "*", "Microsoft.AspNetCore.Server.Kestrel", "System.Runtime")
            .AddReader(_scrapeReader);
        if (otlp is not null)
        {
            metrics.AddOtlpExporter((exporter, reader) =>
            {
                exporter.Endpoint = new Uri(otlp);
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 15_000;
            });
        }
        _metrics = metrics.Build()!;
    }

    public bool Tracing => _tracing is not null;

    /// <summary>Every metric now, in the Prometheus text format.</summary>
    public string ScrapePrometheus() => _scrapeExporter.Scrape(_scrapeReader);

    public void Dispose()
    {
        _tracing?.Dispose();
        _metrics.Dispose();
        _scrapeExporter.Dispose();
    }
}

/// <summary>One JSON object per span and line: trace and span ids, parent, name, kind, start, duration and tags.</summary>
internal sealed class JsonLinesSpanExporter(string path) : BaseExporter<Activity>
{
    private readonly Lock _gate = new();

    public override ExportResult Export(in Batch<Activity> batch)
    {
        using var buffer = new MemoryStream();
        foreach (var span in batch)
        {
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteString("traceId", span.TraceId.ToHexString());
                json.WriteString("spanId", span.SpanId.ToHexString());
                json.WriteString("parentSpanId", span.ParentSpanId == default ? null : span.ParentSpanId.ToHexString());
                json.WriteString("name", span.DisplayName);
                json.WriteString("source", span.Source.Name);
                json.WriteString("kind", span.Kind.ToString());
                json.WriteString("start", span.StartTimeUtc);
                json.WriteNumber("durationMs", Math.Round(span.Duration.TotalMilliseconds, 3));
                json.WriteString("status", span.Status.ToString());
                json.WriteStartObject("tags");
                foreach (var (key, value) in span.TagObjects)
                {
                    json.WriteString(key, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
                }
                json.WriteEndObject();
                json.WriteEndObject();
            }
            buffer.WriteByte((byte)'\n');
        }
        lock (_gate)
        {
            using var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            buffer.Position = 0;
            buffer.CopyTo(file);
        }
        return ExportResult.Success;
    }
}
