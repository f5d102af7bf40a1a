using System.Net;
using System.Text.Json.Nodes;

namespace Recsys.Gateway.FunctionalTests;

public sealed class RecommendationTests : IAsyncLifetime
{
    private RecsysServer _server = null!;

    public async Task InitializeAsync() => _server = await RecsysServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>Item ids unique to one test, so tests sharing the server do not see each other's items.</summary>
    private static string[] Items(params string[] names)
    {
        var prefix = Guid.NewGuid().ToString("N")[..6];
        return names.Select(n => $"{prefix}-{n}").ToArray();
    }

    [Fact]
    public async Task A_cold_user_gets_trending_items_and_leaves_no_grain_behind()
    {
        var (hit, other) = Items("hit", "other") switch { var a => (a[0], a[1]) };
        await _server.PostItemsAsync(Json.Item(hit, category: "cold-start"), Json.Item(other, category: "cold-start"));
        await _server.PostEventsAsync(Json.Event(Json.NewUser(), hit, "purchase"), Json.Event(Json.NewUser(), other));

        var stranger = Json.NewUser();
        var response = await _server.GetJsonAsync($"/v1/users/{stranger}/recommendations?k=5&category=cold-start");
        Assert.Equal(stranger, (string)response["userId"]!);
        Assert.Equal("fallback-v1", (string)response["modelVersion"]!);
        Assert.Matches("^[0-9a-f]{32}\\.[0-9a-f]{16}\\.fallback-v1$", (string)response["recommendationId"]!); // the id names the version that made the list
        var items = response["items"]!.AsArray();
        Assert.Equal([hit, other], items.Select(i => (string)i!["itemId"]!));
        Assert.Equal("popular in cold-start", (string)items[0]!["reason"]!);
        Assert.True((double)items[0]!["score"]! > (double)items[1]!["score"]!);
        // A read for a user never seen deactivates its grain after a short grace, so scans of unknown ids cannot fill memory.
        await Poll.UntilAsync(async () => !await _server.IsActiveAsync(stranger), TimeSpan.FromSeconds(10),
            "the unknown user's grain to leave memory");
    }

    [Fact]
    public async Task Recommendations_reflect_an_event_as_soon_as_it_is_accepted()
    {
        var ids = Items("tent", "stove", "lamp");
        await _server.PostItemsAsync(ids.Select(id => Json.Item(id, category: "camping", title: id.ToUpperInvariant())).ToArray<object>());
        for (var u = 0; u < 3; u++)
        {
            var camper = Json.NewUser();
            await _server.PostEventsAsync(Json.Event(camper, ids[0]), Json.Event(camper, ids[1]));
        }
        var me = Json.NewUser();
        using var posted = await _server.PostEventsAsync(Json.Event(me, ids[0], "cart"));
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);

        var response = await _server.GetJsonAsync($"/v1/users/{me}/recommendations?k=2&category=camping");
        var first = response["items"]![0]!;
        Assert.Equal(ids[1], (string)first["itemId"]!);
        Assert.Equal($"because you added {ids[0].ToUpperInvariant()} to your cart", (string)first["reason"]!);
        Assert.DoesNotContain(ids[0], response["items"]!.AsArray().Select(i => (string)i!["itemId"]!)); // seen
    }

    [Fact]
    public async Task Filters_apply_to_category_stock_price_and_seen_items()
    {
        var ids = Items("seen", "fits", "gone", "cheap", "dear", "hat");
        var (seen, fits, gone, cheap, dear, hat) = (ids[0], ids[1], ids[2], ids[3], ids[4], ids[5]);
        var category = "filters-" + ids[0][..6];
        await _server.PostItemsAsync(
            Json.Item(seen, category, 20), Json.Item(fits, category, 20), Json.Item(gone, category, 20, inStock: false),
            Json.Item(cheap, category, 1), Json.Item(dear, category, 500), Json.Item(hat, "hats-" + category, 20));
        await _server.PostEventsAsync(ids.Select(id => Json.Event(Json.NewUser(), id)).ToArray());
        var me = Json.NewUser();
        await _server.PostEventsAsync(Json.Event(me, seen));

        Assert.Equal([fits], await _server.RecommendedIdsAsync(me, $"&category={category}&minPrice=5&maxPrice=50"));
        Assert.Equal([fits, gone, seen], (await _server.RecommendedIdsAsync(me, $"&category={category}&minPrice=5&maxPrice=50&inStock=false&includeSeen=true")).Order());
        Assert.Equal([cheap, fits], (await _server.RecommendedIdsAsync(me, $"&category={category}&maxPrice=20")).Order());
        Assert.Empty(await _server.RecommendedIdsAsync(me, "&category=no-such-category"));
    }

    [Fact]
    public async Task Events_for_unknown_items_are_kept_and_the_items_recommended_once_catalogued()
    {
        var ids = Items("late");
        var category = "late-" + ids[0][..6];
        var shopper = Json.NewUser();
        using var posted = await _server.PostEventsAsync(Json.Event(shopper, ids[0], "purchase"));
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        Assert.Equal(ids, await _server.RecentItemsAsync(shopper));
        Assert.Empty(await _server.RecommendedIdsAsync(Json.NewUser(), $"&category={category}"));

        await _server.PostItemsAsync(Json.Item(ids[0], category));
        Assert.Equal(ids, await _server.RecommendedIdsAsync(Json.NewUser(), $"&category={category}"));
    }

    [Fact]
    public async Task Similar_items_use_co_occurrence_and_an_unknown_item_is_404()
    {
        var ids = Items("phone", "case", "sofa");
        await _server.PostItemsAsync(Json.Item(ids[0], "phones"), Json.Item(ids[1], "phones"), Json.Item(ids[2], "sofas"));
        var user = Json.NewUser();
        await _server.PostEventsAsync(Json.Event(user, ids[0]), Json.Event(user, ids[1]));
        var similar = await _server.GetJsonAsync($"/v1/items/{ids[0]}/similar?k=1");
        Assert.Equal(ids[0], (string)similar["itemId"]!);
        var first = similar["items"]![0]!;
        Assert.Equal(ids[1], (string)first["itemId"]!);
        Assert.Equal($"often viewed together with {ids[0]}", (string)first["reason"]!);

        using var unknown = await _server.Client.GetAsync("/v1/items/never-heard-of-it/similar");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("never-heard-of-it", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("k=0", "k", "from 1 to 100")]
    [InlineData("k=abc", "k", "got 'abc'")]
    [InlineData("k=101", "k", "from 1 to 100")]
    [InlineData("minPrice=ten", "minPrice", "a price of 0 or more")]
    [InlineData("minPrice=50&maxPrice=10", "minPrice", "above maxPrice")]
    [InlineData("inStock=maybe", "inStock", "true or false")]
    public async Task Bad_query_parameters_get_a_problem_naming_the_parameter(string query, string field, string message)
    {
        using var response = await _server.Client.GetAsync($"/v1/users/someone/recommendations?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Contains(message, (string)problem["errors"]![field]![0]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_catalogue_items_are_named_and_the_valid_ones_applied()
    {
        var ids = Items("good", "negative", "text-price");
        using var response = await _server.PostJsonAsync("/v1/items", $$"""
            [{"itemId": "{{ids[0]}}", "price": 5},
             {"itemId": "{{ids[1]}}", "price": -5},
             {"itemId": "{{ids[2]}}", "price": "5"},
             {"title": "no id"}]
            """);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(["items[1].price", "items[2].price", "items[3].itemId"], problem["errors"]!.AsObject().Select(e => e.Key).Order());
        Assert.Equal(1, (int)problem["upserted"]!);
        Assert.NotNull(_server.Catalogue.Get(ids[0]));
        Assert.Null(_server.Catalogue.Get(ids[1]));
    }

    [Fact]
    public async Task Health_readiness_and_the_openapi_document_are_served()
    {
        Assert.Equal("Healthy", (string)(await _server.GetJsonAsync("/healthz"))["status"]!);
        Assert.Equal("Healthy", (string)(await _server.GetJsonAsync("/readyz"))["status"]!);
        var openApi = await _server.GetJsonAsync("/openapi/v1.json");
        var paths = openApi["paths"]!.AsObject().Select(p => p.Key).ToArray();
        Assert.Contains("/v1/events", paths);
        Assert.Contains("/v1/users/{userId}/recommendations", paths);
        Assert.Contains("/v1/items/{itemId}/similar", paths);
    }
}
