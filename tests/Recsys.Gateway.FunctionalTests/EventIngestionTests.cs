using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Recsys.Gateway.FunctionalTests;

public sealed class EventIngestionTests : IAsyncLifetime
{
    private RecsysServer _server = null!;

    public async Task InitializeAsync() => _server = await RecsysServer.StartAsync(
        ["Recsys:Gateway:MaxEventsPerRequest=20", "Recsys:Gateway:MaxRequestBodyBytes=8192"]);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static async Task<JsonNode> BodyAsync(HttpResponseMessage response) => JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

    [Fact]
    public async Task A_valid_batch_is_accepted_with_counts_and_a_replay_only_counts_duplicates()
    {
        var user = Json.NewUser();
        object[] batch = [Json.Event(user, "a", id: "x1"), Json.Event(user, "b", id: "x2"), Json.Event(user, "b", id: "x2")];
        using var first = await _server.PostEventsAsync(batch);
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var counts = await BodyAsync(first);
        Assert.Equal(3, (int)counts["received"]!);
        Assert.Equal(2, (int)counts["accepted"]!);
        Assert.Equal(1, (int)counts["duplicates"]!); // the same id twice in one batch

        using var replay = await _server.PostEventsAsync(batch);
        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        Assert.Equal(0, (int)(await BodyAsync(replay))["accepted"]!);
        Assert.Equal(["b", "a"], await _server.RecentItemsAsync(user));
        Assert.Equal(2, (int)(await _server.GetJsonAsync($"/v1/users/{user}"))["eventCount"]!);
    }

    [Fact]
    public async Task A_read_after_a_write_sees_it_even_when_an_earlier_read_published_a_snapshot()
    {
        var user = Json.NewUser();
        for (var i = 0; i < 20; i++)
        {
            await _server.RecentItemsAsync(user); // publishes the user's snapshot (from the second round on)
            using var response = await _server.PostEventsAsync(Json.Event(user, $"item-{i}"));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            Assert.Equal($"item-{i}", (await _server.RecentItemsAsync(user))[0]);
            Assert.DoesNotContain($"item-{i}", await _server.RecommendedIdsAsync(user, "&inStock=false")); // and it counts as seen at once
        }
    }

    [Fact]
    public async Task A_mixed_batch_applies_exactly_the_valid_events_and_names_every_bad_field()
    {
        var user = Json.NewUser();
        var other = Json.NewUser();
        var future = DateTimeOffset.UtcNow.AddDays(1).ToString("O");
        var body = $$"""
        [
          {"eventId": "ok-1", "userId": "{{user}}", "itemId": "first", "type": "view", "timestamp": "2026-01-01T10:00:00Z"},
          {"eventId": "bad-type", "userId": "{{user}}", "itemId": "x", "type": "like", "timestamp": "2026-01-01T10:01:00Z"},
          {"eventId": "bad-time", "userId": "{{user}}", "itemId": "x", "type": "view", "timestamp": "{{future}}"},
          42,
          {"eventId": "ok-2", "userId": "{{user}}", "itemId": "second", "type": "cart", "timestamp": "2026-01-01T10:02:00Z"},
          {"eventId": "no-user", "itemId": "x", "type": "view", "timestamp": "2026-01-01T10:03:00Z"},
          {"eventId": "wrong-json-type", "userId": "{{user}}", "itemId": "x", "type": "view", "timestamp": 1700000000},
          {"eventId": "ok-3", "userId": "{{other}}", "itemId": "third", "type": "purchase", "timestamp": "2026-01-01T10:04:00Z", "futureField": {"a": 1} }
        ]
        """;
        using var response = await _server.PostJsonAsync("/v1/events", body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var problem = await BodyAsync(response);
        var errors = problem["errors"]!.AsObject();
        Assert.Equal(["events[1].type", "events[2].timestamp", "events[3]", "events[5].userId", "events[6].timestamp"], errors.Select(e => e.Key).Order());
        Assert.Contains("'like' is not an event type", (string)errors["events[1].type"]![0]!, StringComparison.Ordinal);
        Assert.Contains("in the future", (string)errors["events[2].timestamp"]![0]!, StringComparison.Ordinal);
        Assert.Contains("expected a string", (string)errors["events[6].timestamp"]![0]!, StringComparison.Ordinal);
        Assert.Equal(3, (int)problem["accepted"]!);
        Assert.Equal(5, (int)problem["rejected"]!);
        Assert.Contains("resend", (string)problem["detail"]!, StringComparison.Ordinal);

        Assert.Equal(["second", "first"], await _server.RecentItemsAsync(user));
        Assert.Equal(["third"], await _server.RecentItemsAsync(other));

        // Resending the same batch applies nothing twice.
        using var again = await _server.PostJsonAsync("/v1/events", body);
        var second = await BodyAsync(again);
        Assert.Equal(0, (int)second["accepted"]!);
        Assert.Equal(3, (int)second["duplicates"]!);
        Assert.Equal(2, (int)(await _server.GetJsonAsync($"/v1/users/{user}"))["eventCount"]!);
    }

    [Fact]
    public async Task Text_that_is_not_valid_unicode_or_a_repeated_field_rejects_its_event_and_the_rest_is_applied()
    {
        var user = Json.NewUser();
        string Event(string id, string fields) =>
            $$"""{"eventId": "{{id}}", "userId": "{{user}}", "itemId": "i-{{id}}", "type": "view", "timestamp": "2026-01-01T10:00:00Z"{{fields}}}""";
        // A browser cutting a search inside an emoji sends a lone surrogate, escaped or as raw bytes.
        var body = new List<byte>();
        void Add(string text) => body.AddRange(System.Text.Encoding.UTF8.GetBytes(text));
        Add("[" + Event("ok-1", "") + ",");
        Add("""{"eventId": "\ud800", "userId": "USER", "itemId": "x", "type": "view", "timestamp": "2026-01-01T10:00:00Z"},""".Replace("USER", user));
        Add(Event("raw-byte", ", \"query\": \"tent") [..^1]);
        body.AddRange([0xff, (byte)'"', (byte)'}', (byte)',']);
        Add(Event("bad-name", ", \"x"));
        body.RemoveRange(body.Count - 1, 1);
        body.AddRange([0xed, 0xa0, 0x80, (byte)'"', (byte)':', (byte)'1', (byte)'}', (byte)',']); // UTF-8 of a surrogate
        Add(Event("repeated", ", \"itemId\": \"other\"") + ",");
        Add(Event("ok-2", "") + "]");

        using var content = new ByteArrayContent([.. body]);
        content.Headers.ContentType = new("application/json");
        using var response = await _server.Writer.PostAsync("/v1/events", content);
        var problem = await BodyAsync(response);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = problem["errors"]!.AsObject();
        Assert.Equal(["events[1].eventId", "events[2].query", "events[3]", "events[4].itemId"], errors.Select(e => e.Key).Order());
        Assert.Contains("not valid Unicode text", (string)errors["events[1].eventId"]![0]!, StringComparison.Ordinal);
        Assert.Contains("property name", (string)errors["events[3]"]![0]!, StringComparison.Ordinal);
        Assert.Contains("more than once", (string)errors["events[4].itemId"]![0]!, StringComparison.Ordinal);
        Assert.Equal(2, (int)problem["accepted"]!);
        Assert.Equal(["i-ok-2", "i-ok-1"], await _server.RecentItemsAsync(user));

        using var items = await _server.PostJsonAsync("/v1/items",
            """[{"itemId": "lamp\udc00", "category": "c"}, {"itemId": "USER-lamp", "category": "c"}]""".Replace("USER", user));
        Assert.Equal(HttpStatusCode.BadRequest, items.StatusCode);
        Assert.Equal(["items[0].itemId"], (await BodyAsync(items))["errors"]!.AsObject().Select(e => e.Key));
        Assert.NotNull(_server.Catalogue.Get($"{user}-lamp"));
    }

    [Theory]
    [InlineData("[{\"eventId\": \"a\", \"userId\": \"USER\", \"itemId\": \"i\", \"type\": \"view\", \"timestamp\": \"2026-01-01T00:00:00Z\"}, {", "not valid JSON")]
    [InlineData("{\"eventId\": \"a\"}", "expected a JSON array of events")]
    [InlineData("", "the body is empty")]
    [InlineData("[]", "the array holds no events")]
    [InlineData("[{\"eventId\": \"a\", \"userId\": \"USER\", \"itemId\": \"i\", \"type\": \"view\", \"timestamp\": \"2026-01-01T00:00:00Z\"}] trailing", "not valid JSON")]
    public async Task A_body_that_is_not_a_usable_array_is_rejected_whole(string body, string message)
    {
        var user = Json.NewUser();
        using var response = await _server.PostJsonAsync("/v1/events", body.Replace("USER", user, StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, (string)(await BodyAsync(response))["detail"]!, StringComparison.Ordinal);
        Assert.Empty(await _server.RecentItemsAsync(user));
    }

    [Fact]
    public async Task A_batch_over_the_count_limit_is_rejected_whole()
    {
        var user = Json.NewUser();
        using var response = await _server.PostEventsAsync(Enumerable.Range(0, 21).Select(i => Json.Event(user, $"i{i}")).ToArray());
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("at most 20", (string)(await BodyAsync(response))["detail"]!, StringComparison.Ordinal);
        Assert.Empty(await _server.RecentItemsAsync(user));
    }

    [Fact]
    public async Task A_body_over_the_size_limit_gets_413_whether_or_not_it_declares_its_length()
    {
        var user = Json.NewUser();
        var big = JsonSerializer.Serialize(new[] { Json.Event(user, new string('x', 100), query: new string('q', 9000)) });
        using var declared = await _server.PostJsonAsync("/v1/events", big);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);
        Assert.Contains("limit", (string)(await BodyAsync(declared))["detail"]!, StringComparison.Ordinal);

        using var chunked = new HttpRequestMessage(HttpMethod.Post, "/v1/events")
        {
            Content = new StreamContent(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(big))),
        };
        chunked.Content.Headers.ContentType = new("application/json");
        chunked.Headers.TransferEncodingChunked = true;
        using var streamed = await _server.Writer.SendAsync(chunked);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, streamed.StatusCode);
        Assert.Empty(await _server.RecentItemsAsync(user));
    }

    [Fact]
    public async Task A_body_that_is_not_declared_as_json_gets_415()
    {
        using var response = await _server.Writer.PostAsync("/v1/events", new StringContent("[]", System.Text.Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("Content-Type: application/json", (string)(await BodyAsync(response))["detail"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Write_endpoints_need_a_valid_api_key()
    {
        var user = Json.NewUser();
        var body = JsonSerializer.Serialize(new[] { Json.Event(user, "a") });
        using var missing = await _server.PostJsonAsync("/v1/events", body, _server.Anonymous);
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Contains("X-Api-Key", (string)(await BodyAsync(missing))["detail"]!, StringComparison.Ordinal);

        using var wrong = new HttpRequestMessage(HttpMethod.Post, "/v1/items") { Content = new StringContent("[]", System.Text.Encoding.UTF8, "application/json") };
        wrong.Headers.Add("X-Api-Key", RecsysServer.ApiKey + "x");
        using var wrongResponse = await _server.Anonymous.SendAsync(wrong);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongResponse.StatusCode);
        Assert.DoesNotContain(RecsysServer.ApiKey, await wrongResponse.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(await _server.RecentItemsAsync(user));
    }

    [Fact]
    public async Task Concurrent_overlapping_batches_apply_every_event_exactly_once()
    {
        var users = Enumerable.Range(0, 5).Select(_ => Json.NewUser()).ToArray();
        // 200 distinct events, each sent three times across concurrent requests in shuffled batches.
        var events = Enumerable.Range(0, 200).Select(i => Json.Event(users[i % 5], $"item-{i}", id: $"{users[i % 5]}-e{i}")).ToArray();
        var random = new Random(3);
        var sends = Enumerable.Range(0, 3).SelectMany(_ => events).OrderBy(_ => random.Next()).Chunk(20)
            .Select(async chunk =>
            {
                using var response = await _server.PostEventsAsync(chunk);
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                return (int)(await BodyAsync(response))["accepted"]!;
            });
        var accepted = (await Task.WhenAll(sends)).Sum();
        Assert.Equal(200, accepted);
        foreach (var user in users)
        {
            Assert.Equal(40, (int)(await _server.GetJsonAsync($"/v1/users/{user}"))["eventCount"]!);
        }
    }

    [Fact]
    public async Task Logs_never_contain_the_api_key_or_any_event_payload()
    {
        var marker = "secretmarker" + Guid.NewGuid().ToString("N");
        await _server.PostEventsAsync(Json.Event(marker + "-user", marker + "-item", query: marker, id: marker + "-id"));
        await _server.PostJsonAsync("/v1/events", $"[{{\"eventId\": \"{marker}\", \"type\": \"nope\"}}, {{");
        await _server.PostJsonAsync("/v1/events", $"[{{\"eventId\": \"{marker}\", \"type\": \"nope\"}}]");
        // (Paths appear in framework request logs at Debug level, which the service's log filters keep out.)
        await _server.GetJsonAsync($"/v1/users/{Json.NewUser()}/recommendations");
        using var wrongKey = new HttpRequestMessage(HttpMethod.Post, "/v1/events") { Content = new StringContent("[]", System.Text.Encoding.UTF8, "application/json") };
        wrongKey.Headers.Add("X-Api-Key", marker);
        (await _server.Anonymous.SendAsync(wrongKey)).Dispose();

        // Captured at Trace level, every category: the capture works if it saw the batch summaries.
        Assert.Contains(_server.Logs.Lines, line => line.Contains("Event batch: 1 accepted", StringComparison.Ordinal));
        Assert.DoesNotContain(_server.Logs.Lines, line => line.Contains(marker, StringComparison.Ordinal));
        Assert.DoesNotContain(_server.Logs.Lines, line => line.Contains(RecsysServer.ApiKey, StringComparison.Ordinal));
    }
}
