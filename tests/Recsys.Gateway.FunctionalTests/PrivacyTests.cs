using System.Net;
using System.Text.Json.Nodes;

namespace Recsys.Gateway.FunctionalTests;

/// <summary>A user's data can be exported whole and erased everywhere the service keeps it.</summary>
public class PrivacyTests(NeuralServingFixture fixture) : IClassFixture<NeuralServingFixture>
{
    [Fact]
    public async Task Export_returns_everything_held_and_erasure_removes_it_so_later_events_start_a_fresh_history()
    {
        await using var server = await fixture.StartServerAsync();
        var user = Json.NewUser();
        var events = new[]
        {
            Json.Event(user, "item-3", id: "p1"), Json.Event(user, "item-4", "purchase", id: "p2"),
            Json.Event(user, null, "search", id: "p3", query: "tents for two"),
        };
        using (var posted = await server.PostEventsAsync(events))
        {
            Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        }
        await Poll.UntilAsync(async () => (await server.GetJsonAsync($"/v1/users/{user}"))["intent"] is not null, TimeSpan.FromSeconds(30),
            "the user's first encode");

        var export = await server.GetJsonAsync($"/v1/users/{user}/export");
        Assert.Equal(3, (int)export["eventCount"]!);
        Assert.Equal(["item-4", "item-3"], export["behaviours"]!.AsArray().Select(b => (string)b!["itemId"]!));
        Assert.Equal(["item-4"], export["purchased"]!.AsArray().Select(p => (string)p!));
        Assert.Equal(["tents for two"], export["recentSearches"]!.AsArray().Select(q => (string)q!));
        Assert.Equal(3, (int)export["rememberedEventIds"]!);
        Assert.Equal(fixture.Checkpoint.Model.Config.Dim, export["intentVector"]!.AsArray().Count);

        using var erase = await server.Writer.DeleteAsync($"/v1/users/{user}");
        var erased = JsonNode.Parse(await erase.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.OK, erase.StatusCode);
        Assert.Equal(3, (long)erased["events"]!);
        Assert.Equal(2, (int)erased["behaviours"]!);
        Assert.Equal(1, (int)erased["purchases"]!);
        Assert.Equal(1, (int)erased["searches"]!);
        Assert.True((bool)erased["intent"]!);

        var after = await server.GetJsonAsync($"/v1/users/{user}/export");
        Assert.Equal(0, (int)after["eventCount"]!);
        Assert.Empty(after["behaviours"]!.AsArray());
        Assert.Empty(after["recentSearches"]!.AsArray());
        Assert.Null(after["intent"]);
        Assert.Equal("fallback-v1", (string)(await server.GetJsonAsync($"/v1/users/{user}/recommendations"))["modelVersion"]!);
        // Nothing of the old history is left, not even the dedup ids: an event sent now starts afresh.
        using (var again = await server.PostEventsAsync(Json.Event(user, "item-9", id: "p1")))
        {
            Assert.Equal(1, (int)JsonNode.Parse(await again.Content.ReadAsStringAsync())!["accepted"]!);
        }
        Assert.Equal(["item-9"], await server.RecentItemsAsync(user));
        Assert.Equal(1, (int)(await server.GetJsonAsync($"/v1/users/{user}"))["eventCount"]!);
    }

    [Fact]
    public async Task Erasure_needs_a_write_key_and_a_valid_user_id()
    {
        await using var server = await fixture.StartServerAsync();
        using var read = await server.Client.DeleteAsync($"/v1/users/{Json.NewUser()}");
        Assert.Equal(HttpStatusCode.Forbidden, read.StatusCode);
        using var bad = await server.Writer.DeleteAsync("/v1/users/%20");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }
}
