using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using Recsys.ServiceDefaults;

namespace Recsys.Gateway.FunctionalTests;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    // Alone: a telemetry provider hears every "Recsys.*" source and meter of the process, and other tests run servers too.
    public const string Name = "telemetry";
}

[Collection(TelemetryCollection.Name)]
public sealed partial class TelemetryTests(NeuralServingFixture fixture) : IClassFixture<NeuralServingFixture>
{
    // One sample line of the Prometheus text format 0.0.4: name, optional labels with escaped values, a number.
    [GeneratedRegex("""^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(\\\\|\\"|\\n|[^"\\\n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(\\\\|\\"|\\n|[^"\\\n])*")*\})? (-?[0-9.eE+-]+|\+Inf|-Inf|NaN)$""")]
    private static partial Regex SampleLine();

    /// <summary>Every line is a comment or a sample in the exposition grammar, and each sample follows its family's # TYPE.</summary>
    private static void AssertWellFormed(string text)
    {
        string? family = null;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                family = line.Split(' ')[2];
                continue;
            }
            if (line.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                continue;
            }
            Assert.Matches(SampleLine(), line);
            var name = line.Split('{', ' ')[0];
            Assert.True(family is not null && (name == family || name.StartsWith(family + "_", StringComparison.Ordinal)),
                $"sample {name} is not in the family of the last # TYPE ({family})");
        }
    }

    [Fact]
    public void The_exposition_follows_the_prometheus_text_format()
    {
        using var meter = new Meter("Recsys.Test." + Guid.NewGuid().ToString("N"));
        var exporter = new PrometheusTextExporter();
        var reader = new BaseExportingMetricReader(exporter) { TemporalityPreference = MetricReaderTemporalityPreference.Cumulative };
        using var provider = Sdk.CreateMeterProviderBuilder().AddMeter(meter.Name).AddReader(reader).Build();
        var events = meter.CreateCounter<long>("test.events", "{event}", "Events\nby outcome");
        var latency = meter.CreateHistogram<double>("test.latency", "s", "Latency",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.1] });
        meter.CreateObservableGauge("test.depth", () => 7, "{request}");
        events.Add(3, new KeyValuePair<string, object?>("outcome", "applied"));
        events.Add(2, new KeyValuePair<string, object?>("outcome", "say \"hi\"\\\n"));
        latency.Record(0.005);
        latency.Record(0.05);
        latency.Record(5);

        var text = exporter.Scrape(reader);

        AssertWellFormed(text);
        Assert.Contains("# HELP test_events_total Events\\nby outcome\n", text);
        Assert.Contains("# TYPE test_events_total counter\n", text);
        Assert.Contains("test_events_total{outcome=\"applied\"} 3\n", text);
        Assert.Contains("test_events_total{outcome=\"say \\\"hi\\\"\\\\\\n\"} 2\n", text);
        Assert.Contains("# TYPE test_latency_seconds histogram\n", text);
        // Buckets are cumulative and end with +Inf, which equals the count.
        Assert.Contains("test_latency_seconds_bucket{le=\"0.01\"} 1\n", text);
        Assert.Contains("test_latency_seconds_bucket{le=\"0.1\"} 2\n", text);
        Assert.Contains("test_latency_seconds_bucket{le=\"+Inf\"} 3\n", text);
        Assert.Contains("test_latency_seconds_count 3\n", text);
        Assert.Contains("test_latency_seconds_sum 5.055\n", text);
        Assert.Contains("# TYPE test_depth gauge\ntest_depth 7\n", text);
    }

    [Fact]
    public async Task Metrics_are_scraped_from_slash_metrics_with_requests_events_and_encodes_counted()
    {
        await using var server = await fixture.StartServerAsync();
        var user = Json.NewUser();
        await NeuralServingFixture.ViewAsync(server, user, 0, 1, 2, 3);
        using var replay = await server.PostEventsAsync(Json.Event(user, "item-4", id: "dup-1"), Json.Event(user, "item-4", id: "dup-1"));
        await server.GetJsonAsync($"/v1/users/{user}/recommendations?k=5");

        using var response = await server.Client.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        AssertWellFormed(text);
        Assert.Matches("""recsys_events_ingested_total\{outcome="applied"\} 4\n""", text);
        Assert.Matches("""recsys_events_ingested_total\{outcome="duplicate"\} 1\n""", text);
        Assert.Matches("""recsys_recommendations_served_total\{model_version="cyclic-v1"\} 1\n""", text);
        Assert.Matches("""recsys_models_loaded\{model_version="cyclic-v1",role="primary"\} 1\n""", text);
        Assert.Matches("""recsys_encode_batch_size_count [1-9]""", text);
        Assert.Matches("""http_server_request_duration_seconds_count\{http_request_method="GET",http_response_status_code="200",http_route="/v1/users/\{userId\}/recommendations"\} 1\n""", text);
        Assert.Contains("recsys_actors_active 1\n", text);
    }

    [Fact]
    public async Task A_recommendation_is_one_trace_with_a_span_per_shard_of_the_fan_out()
    {
        var traceFile = Path.Combine(fixture.Folder, $"trace-{Guid.NewGuid():N}.jsonl");
        await using var server = await fixture.StartServerAsync("Recsys:Telemetry:TraceFile=" + traceFile, "Recsys:Telemetry:TraceSampleRatio=1",
            "Recsys:Silo:Model:Catalogue:Shards=3");
        var user = Json.NewUser();
        await NeuralServingFixture.ViewAsync(server, user, 5, 6, 7);
        await server.GetJsonAsync($"/v1/users/{user}/recommendations?k=5");

        JsonObject[] spans = [];
        JsonObject? root = null;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (root is null || spans.Count(s => (string)s["name"]! == "shard.topk" && (string)s["traceId"]! == (string)root["traceId"]!) < 3)
        {
            Assert.True(DateTime.UtcNow < deadline, "the spans of the request were not exported within 10 s");
            await Task.Delay(50);
            spans = File.Exists(traceFile)
                ? [.. File.ReadAllLines(traceFile).Select(static line => JsonNode.Parse(line)!.AsObject())]
                : [];
            root = spans.FirstOrDefault(static s => ((string?)s["tags"]!["url.path"] ?? "").EndsWith("/recommendations", StringComparison.Ordinal));
        }
        var trace = spans.Where(s => (string)s["traceId"]! == (string)root!["traceId"]!).ToArray();
        JsonObject Span(string name) => trace.Single(s => (string)s["name"]! == name);
        JsonObject[] Children(JsonObject parent) => [.. trace.Where(s => (string?)s["parentSpanId"] == (string)parent["spanId"]!)];

        // GET → recommend → intent and one shard.topk per shard, each with its call to a shard grain: one trace from the
        // request through the grain calls to the shard scoring. The user's grain is active on this silo (the events
        // above activated it), so the read uses what it published, with no user grain call.
        var recommend = Span("recommend");
        Assert.Contains(recommend, Children(root!));
        Assert.Equal("cyclic-v1", (string)recommend["tags"]!["recsys.model_version"]!);
        Assert.DoesNotContain(trace, static s => (string)s["name"]! == "IUserGrain/RecommendAsync");
        Assert.Contains(Span("intent"), Children(recommend));
        var shardSpans = trace.Where(static s => (string)s["name"]! == "shard.topk").ToArray();
        Assert.Equal(["0", "1", "2"], shardSpans.Select(static s => (string)s["tags"]!["recsys.shard"]!).Order());
        Assert.All(shardSpans, shard => Assert.Equal("ICatalogueShardGrain/TopKAsync", (string)Assert.Single(Children(shard))["name"]!));
        Assert.All(shardSpans, shard => Assert.Equal((string)recommend["spanId"]!, (string?)shard["parentSpanId"]));
    }
}
