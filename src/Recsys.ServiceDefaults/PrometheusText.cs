using System.Globalization;
using System.Text;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Recsys.ServiceDefaults;

/// <summary>
/// A pull exporter that writes the OpenTelemetry SDK's metrics in the Prometheus text exposition format (0.0.4), for
/// <c>GET /metrics</c>. OpenTelemetry's own Prometheus exporter is not available here; this covers what we emit:
/// counters, up-down counters, gauges and explicit-bucket histograms, with the usual name translation (dots to
/// underscores, the unit as a suffix, <c>_total</c> on counters).
/// Collected on demand through a plain <see cref="BaseExportingMetricReader"/> (a reader with no timer); the SDK's
/// pull mode is reserved to its own Prometheus exporter.
/// </summary>
public sealed class PrometheusTextExporter : BaseExporter<Metric>
{
    private readonly Lock _scrapeGate = new();
    private StringBuilder? _output;

    public override ExportResult Export(in Batch<Metric> batch)
    {
        var output = _output ?? new StringBuilder();
        foreach (var metric in batch)
        {
            Write(output, metric);
        }
        return ExportResult.Success;
    }

    /// <summary>Collects through <paramref name="reader"/> (which must wrap this exporter) and returns the text.</summary>
    internal string Scrape(MetricReader reader)
    {
        lock (_scrapeGate)
        {
            _output = new StringBuilder();
            try
            {
                if (!reader.Collect())
                {
                    throw new InvalidOperationException("the metric reader did not collect (is it shut down?)");
                }
                return _output.ToString();
            }
            finally
            {
                _output = null;
            }
        }
    }

    private static void Write(StringBuilder output, Metric metric)
    {
        var name = MetricName(metric);
        var (type, suffix) = metric.MetricType switch
        {
            MetricType.LongSum or MetricType.DoubleSum => ("counter", "_total"),
            MetricType.Histogram => ("histogram", ""),
            MetricType.LongGauge or MetricType.DoubleGauge or MetricType.LongSumNonMonotonic or MetricType.DoubleSumNonMonotonic => ("gauge", ""),
            _ => (null, ""), // exponential histograms: not emitted by this service
        };
        if (type is null)
        {
            return;
        }
        if (!string.IsNullOrEmpty(metric.Description))
        {
            output.Append("# HELP ").Append(name).Append(suffix).Append(' ').Append(EscapeHelp(metric.Description)).Append('\n');
        }
        output.Append("# TYPE ").Append(name).Append(suffix).Append(' ').Append(type).Append('\n');
        foreach (ref readonly var point in metric.GetMetricPoints())
        {
            var labels = Labels(point.Tags);
            switch (metric.MetricType)
            {
                case MetricType.LongSum or MetricType.LongSumNonMonotonic:
                    Sample(output, name + suffix, labels, null, point.GetSumLong());
                    break;
                case MetricType.DoubleSum or MetricType.DoubleSumNonMonotonic:
                    Sample(output, name + suffix, labels, null, point.GetSumDouble());
                    break;
                case MetricType.LongGauge:
                    Sample(output, name, labels, null, point.GetGaugeLastValueLong());
                    break;
                case MetricType.DoubleGauge:
                    Sample(output, name, labels, null, point.GetGaugeLastValueDouble());
                    break;
                case MetricType.Histogram:
                    long cumulative = 0;
                    foreach (var bucket in point.GetHistogramBuckets())
                    {
                        cumulative += bucket.BucketCount;
                        var bound = double.IsPositiveInfinity(bucket.ExplicitBound) ? "+Inf" : Number(bucket.ExplicitBound);
                        Sample(output, name + "_bucket", labels, ("le", bound), cumulative);
                    }
                    Sample(output, name + "_sum", labels, null, point.GetHistogramSum());
                    Sample(output, name + "_count", labels, null, point.GetHistogramCount());
                    break;
            }
        }
    }

    /// <summary>http.server.request.duration with unit s becomes http_server_request_duration_seconds.</summary>
    internal static string MetricName(Metric metric)
    {
        var name = Sanitize(metric.Name);
        var unit = metric.Unit switch
        {
            "s" => "seconds",
            "ms" => "milliseconds",
            "By" => "bytes",
            "1" or null or "" => null,
            { } u when u.StartsWith('{') => null, // annotations such as {request} carry no unit
            { } u => Sanitize(u),
        };
        return unit is null || name.EndsWith("_" + unit, StringComparison.Ordinal) ? name : name + "_" + unit;
    }

    private static string Sanitize(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or ':' ? c : '_');
        }
        if (builder.Length > 0 && char.IsAsciiDigit(builder[0]))
        {
            builder.Insert(0, '_');
        }
        return builder.ToString();
    }

    private static string Labels(ReadOnlyTagCollection tags)
    {
        var builder = new StringBuilder();
        foreach (var tag in tags)
        {
            builder.Append(builder.Length == 0 ? "" : ",").Append(Sanitize(tag.Key)).Append("=\"")
                .Append(EscapeLabel(Convert.ToString(tag.Value, CultureInfo.InvariantCulture) ?? "")).Append('"');
        }
        return builder.ToString();
    }

    private static void Sample(StringBuilder output, string name, string labels, (string Key, string Value)? extra, double value)
    {
        output.Append(name);
        if (labels.Length > 0 || extra is not null)
        {
            output.Append('{').Append(labels);
            if (extra is { } label)
            {
                output.Append(labels.Length > 0 ? "," : "").Append(label.Key).Append("=\"").Append(label.Value).Append('"');
            }
            output.Append('}');
        }
        output.Append(' ').Append(Number(value)).Append('\n');
    }

    private static string Number(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" : double.IsNegativeInfinity(value) ? "-Inf" : double.IsNaN(value) ? "NaN"
        : value.ToString("R", CultureInfo.InvariantCulture);

    private static string EscapeLabel(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string EscapeHelp(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
