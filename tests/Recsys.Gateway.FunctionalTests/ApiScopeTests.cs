using System.Net;
using System.Text;
using Recsys.Gateway;

namespace Recsys.Gateway.FunctionalTests;

/// <summary>Every /v1 endpoint needs a key of its scope: user data is not public.</summary>
public sealed class ApiScopeTests
{
    private static readonly (HttpMethod Method, string Path, string? Body, ApiScopes Scope)[] Endpoints =
    [
        (HttpMethod.Get, "/v1/users/USER/recommendations", null, ApiScopes.Read),
        (HttpMethod.Get, "/v1/users/USER", null, ApiScopes.Read),
        (HttpMethod.Get, "/v1/items/sku-1/similar", null, ApiScopes.Read),
        (HttpMethod.Post, "/v1/events", "[]", ApiScopes.Write),
        (HttpMethod.Post, "/v1/items", "[]", ApiScopes.Write),
        (HttpMethod.Get, "/v1/admin/models", null, ApiScopes.Admin),
        (HttpMethod.Post, "/v1/admin/models", "{}", ApiScopes.Admin),
        (HttpMethod.Delete, "/v1/admin/models/candidate", null, ApiScopes.Admin),
    ];

    private static async Task<HttpStatusCode> SendAsync(RecsysServer server, (HttpMethod Method, string Path, string? Body, ApiScopes Scope) endpoint,
        string? key)
    {
        using var request = new HttpRequestMessage(endpoint.Method, endpoint.Path.Replace("USER", "scope-user", StringComparison.Ordinal));
        if (endpoint.Body is not null)
        {
            request.Content = new StringContent(endpoint.Body, Encoding.UTF8, "application/json");
        }
        if (key is not null)
        {
            request.Headers.Add(ApiKeyValidator.HeaderName, key);
        }
        using var response = await server.Anonymous.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task Each_endpoint_answers_401_without_a_key_403_with_a_key_of_another_scope_and_serves_its_own()
    {
        await using var server = await RecsysServer.StartAsync();
        var keys = new Dictionary<ApiScopes, string>
        {
            [ApiScopes.Read] = RecsysServer.ReadKey,
            [ApiScopes.Write] = RecsysServer.WriteKey,
            [ApiScopes.All] = RecsysServer.ApiKey,
        };
        foreach (var endpoint in Endpoints)
        {
            var what = $"{endpoint.Method} {endpoint.Path}";
            Assert.True(await SendAsync(server, endpoint, null) == HttpStatusCode.Unauthorized, what + " without a key");
            Assert.True(await SendAsync(server, endpoint, RecsysServer.ApiKey + "-forged") == HttpStatusCode.Unauthorized, what + " with a bad key");
            foreach (var (scope, key) in keys)
            {
                var status = await SendAsync(server, endpoint, key);
                if ((scope & endpoint.Scope) == 0)
                {
                    Assert.True(status == HttpStatusCode.Forbidden, $"{what} with a {scope} key: {(int)status}");
                }
                else
                {
                    Assert.True(status is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden), $"{what} with a {scope} key: {(int)status}");
                }
            }
        }
    }

    [Fact]
    public async Task A_public_demo_opens_recommendations_to_keyless_reads_but_never_user_data()
    {
        await using var server = await RecsysServer.StartAsync(["Recsys:Gateway:PublicRecommendations=true"]);
        Assert.Equal(HttpStatusCode.OK, await SendAsync(server, Endpoints[0], null));
        Assert.Equal(HttpStatusCode.NotFound, await SendAsync(server, Endpoints[2], null)); // answered: the item is unknown
        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(server, Endpoints[1], null));
        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(server, Endpoints[3], null));
    }

    [Fact]
    public async Task Reads_are_rate_limited_per_key()
    {
        await using var server = await RecsysServer.StartAsync(["Recsys:Gateway:ReadRequestsPerSecond=1", "Recsys:Gateway:ReadBurst=3"]);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            statuses.Add(await SendAsync(server, Endpoints[0], RecsysServer.ReadKey));
        }
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        // Another key has its own bucket.
        Assert.Equal(HttpStatusCode.OK, await SendAsync(server, Endpoints[0], RecsysServer.ApiKey));
    }
}
