using System.Net;
using System.Text.Json.Nodes;

namespace Recsys.Gateway.FunctionalTests;

public class ServerLifecycleTests
{
    [Fact]
    public async Task An_idle_user_is_deactivated_and_their_state_comes_back_from_the_store()
    {
        await using var server = await RecsysServer.StartAsync(
            ["Recsys:Silo:Grains:IdleTimeout=00:00:02", "Recsys:Silo:Grains:CollectionInterval=00:00:00.250"]);
        var user = Json.NewUser();
        await server.PostEventsAsync(Json.Event(user, "a", "purchase", id: "p1"), Json.Event(user, "b", id: "v1"));
        Assert.True(await server.IsActiveAsync(user));

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (await server.IsActiveAsync(user))
        {
            Assert.True(DateTime.UtcNow < deadline, "the idle user was not deactivated");
            await Task.Delay(20);
        }
        var profile = await server.GetJsonAsync($"/v1/users/{user}");
        Assert.Equal(["b", "a"], profile["recent"]!.AsArray().Select(r => (string)r!["itemId"]!));
        Assert.Equal(["a"], profile["purchased"]!.AsArray().Select(p => (string)p!));
        // Dedup survived deactivation too.
        using var replay = await server.PostEventsAsync(Json.Event(user, "a", "purchase", id: "p1"));
        Assert.Equal(1, (int)JsonNode.Parse(await replay.Content.ReadAsStringAsync())!["duplicates"]!);
    }

    [Fact]
    public async Task Writes_beyond_the_per_key_rate_get_429_with_retry_after()
    {
        await using var server = await RecsysServer.StartAsync(["Recsys:Gateway:WriteRequestsPerSecond=1", "Recsys:Gateway:WriteBurst=2"]);
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 10; i++)
        {
            var response = await server.PostEventsAsync(Json.Event(Json.NewUser(), "a"));
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                limited ??= response;
            }
        }
        Assert.Contains(HttpStatusCode.Accepted, statuses);
        Assert.NotNull(limited);
        Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Contains("retry", await limited.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        // Reads are not limited by the write budget.
        using var read = await server.Client.GetAsync("/v1/users/anyone/recommendations");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
    }

    [Fact]
    public async Task The_demo_shop_loads_and_serves_personal_recommendations()
    {
        await using var server = await RecsysServer.StartAsync(demo: true, demoUsers: 40, demoEvents: 4000);
        Assert.True(server.AcceptedEvents >= 3900, $"only {server.AcceptedEvents} demo events applied");
        var personal = 0;
        for (var u = 0; u < 10; u++)
        {
            var response = await server.GetJsonAsync($"/v1/users/{Domain.Simulation.SyntheticShop.UserId(u)}/recommendations?k=10");
            var items = response["items"]!.AsArray();
            Assert.Equal(10, items.Count);
            personal += items.Count(i => ((string)i!["reason"]!).StartsWith("because you", StringComparison.Ordinal));
        }
        Assert.True(personal > 50, $"only {personal} of 100 demo recommendations were personal");
    }

    [Fact]
    public void Serving_on_a_public_address_without_an_api_key_is_refused_with_a_clear_message()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Hosting.EmbeddedServer.Build(
            new Hosting.ServeSettings { Urls = "http://0.0.0.0:0", Demo = true }));
        Assert.Contains("RECSYS_API_KEY", error.Message, StringComparison.Ordinal);
    }
}
