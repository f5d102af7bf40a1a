using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Recsys.Gateway;
using Recsys.Gateway.Hosting;
using Recsys.Silo;

namespace Recsys.Gateway.FunctionalTests;

/// <summary>A real embedded server on a free loopback port, with every log line captured.</summary>
public sealed class RecsysServer : IAsyncDisposable
{
    /// <summary>The main key: every scope.</summary>
    public const string ApiKey = "functional-test-key-5f0c2e9a7b";

    /// <summary>A storefront's key: read only.</summary>
    public const string ReadKey = "functional-read-key-3d81c6f0a2";

    /// <summary>An event pipeline's key: write only.</summary>
    public const string WriteKey = "functional-write-key-9b27e4d15c";

    private readonly WebApplication _app;

    private RecsysServer(WebApplication app, CapturingLoggerProvider logs)
    {
        _app = app;
        Logs = logs;
        BaseAddress = new Uri(app.Urls.Single());
        Client = new HttpClient { BaseAddress = BaseAddress };
        Client.DefaultRequestHeaders.Add(ApiKeyValidator.HeaderName, ReadKey);
        Writer = new HttpClient { BaseAddress = BaseAddress };
        Writer.DefaultRequestHeaders.Add(ApiKeyValidator.HeaderName, ApiKey);
        Anonymous = new HttpClient { BaseAddress = BaseAddress };
    }

    public Uri BaseAddress { get; }

    /// <summary>Sends the read key: what a storefront's back end reading recommendations uses.</summary>
    public HttpClient Client { get; }

    /// <summary>Sends the main key (every scope): what an event pipeline and an operator use.</summary>
    public HttpClient Writer { get; }

    /// <summary>Sends no key.</summary>
    public HttpClient Anonymous { get; }

    public CapturingLoggerProvider Logs { get; }

    /// <summary>The silo's catalogue, as its grains see it.</summary>
    public Domain.Catalogue.ItemCatalogue Catalogue => _app.Services.GetRequiredService<SiloServices>().Catalogue;

    /// <summary>Events applied to users' state since start.</summary>
    public long AcceptedEvents => _app.Services.GetRequiredService<GrainFrontend>().AcceptedEvents;

    /// <summary>User grains in memory.</summary>
    public int ActiveUsers => _app.Services.GetRequiredService<Grains.ActiveUsers>().Count;

    /// <summary>Whether the user's grain is activated, as Orleans' management grain reports.</summary>
    public async Task<bool> IsActiveAsync(string userId)
    {
        var grains = _app.Services.GetRequiredService<Orleans.IGrainFactory>();
        var id = grains.GetGrain<Grains.IUserGrain>(userId).GetGrainId();
        var active = await grains.GetGrain<Orleans.Runtime.IManagementGrain>(0).GetActiveGrains(id.Type);
        return active.Contains(id);
    }

    /// <summary>Starts a server; <paramref name="settings"/> are configuration overrides (key=value).</summary>
    public static async Task<RecsysServer> StartAsync(IEnumerable<string>? settings = null, bool demo = false, int demoUsers = 50, int demoEvents = 3000)
    {
        // Rankings refresh on every read in tests, so that an assertion sees the events it just sent.
        string[] defaults = ["Recsys:Silo:TrendingRefreshInterval=00:00:00", "Recsys:Silo:CoOccurrence:RefreshInterval=00:00:00",
            "Recsys:Gateway:Keys:0:Key=" + ReadKey, "Recsys:Gateway:Keys:0:Scopes=Read",
            "Recsys:Gateway:Keys:1:Key=" + WriteKey, "Recsys:Gateway:Keys:1:Scopes=Write"];
        var logs = new CapturingLoggerProvider();
        var app = EmbeddedServer.Build(
            new ServeSettings
            {
                Urls = "http://127.0.0.1:0",
                ApiKey = ApiKey,
                Demo = demo,
                DemoShop = new Domain.Simulation.ShopOptions { Users = demoUsers, Categories = 6, ItemsPerCategory = 30 },
                DemoEvents = demoEvents,
                ConfigurationArgs = [.. defaults.Concat(settings ?? []).Select(s => "--" + s)],
            },
            builder =>
            {
                builder.Logging.AddProvider(logs);
                builder.Logging.AddFilter<CapturingLoggerProvider>(null, LogLevel.Trace);
                // As the service itself filters them: Orleans' debug traces name grains, and a user grain is named by its user id.
                builder.Logging.AddFilter<CapturingLoggerProvider>("Orleans", LogLevel.Warning);
            });
        await app.StartAsync();
        var server = new RecsysServer(app, logs);
        await server.WaitUntilReadyAsync();
        return server;
    }

    public async Task WaitUntilReadyAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var response = await Client.GetAsync("/readyz");
            if (response.IsSuccessStatusCode)
            {
                return;
            }
            Assert.True(DateTime.UtcNow < deadline, "the server did not become ready within 30 s");
            await Task.Delay(20);
        }
    }

    public Task<HttpResponseMessage> PostJsonAsync(string path, string json, HttpClient? client = null) =>
        (client ?? Writer).PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    public Task<HttpResponseMessage> PostEventsAsync(params object[] events) =>
        PostJsonAsync("/v1/events", JsonSerializer.Serialize(events));

    public async Task PostItemsAsync(params object[] items)
    {
        using var response = await PostJsonAsync("/v1/items", JsonSerializer.Serialize(items));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
    }

    public async Task<JsonNode> GetJsonAsync(string path)
    {
        using var response = await Client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path} answered {(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!;
    }

    public async Task<string[]> RecommendedIdsAsync(string userId, string query = "") =>
        (await GetJsonAsync($"/v1/users/{userId}/recommendations?k=20{query}"))["items"]!.AsArray().Select(i => (string)i!["itemId"]!).ToArray();

    public async Task<string[]> RecentItemsAsync(string userId) =>
        (await GetJsonAsync($"/v1/users/{userId}?recent=100"))["recent"]!.AsArray().Select(i => (string)i!["itemId"]!).ToArray();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Writer.Dispose();
        Anonymous.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Events in the JSON clients send; timestamps default to a minute ago.</summary>
internal static class Json
{
    private static int s_counter;

    public static object Event(string user, string? item, string type = "view", string? id = null, string? timestamp = null, string? query = null,
        string? recommendationId = null) =>
        new Dictionary<string, object?>
        {
            ["recommendationId"] = recommendationId,
            ["eventId"] = id ?? $"ev-{Interlocked.Increment(ref s_counter)}-{Guid.NewGuid():N}",
            ["userId"] = user,
            ["itemId"] = item,
            ["type"] = type,
            ["timestamp"] = timestamp ?? DateTimeOffset.UtcNow.AddMinutes(-1).ToString("O"),
            ["query"] = query,
        };

    public static object Item(string id, string category = "shoes", decimal? price = 20, bool inStock = true, string? title = null) =>
        new { itemId = id, title = title ?? id, category, price, inStock };

    public static string NewUser() => "user-" + Guid.NewGuid().ToString("N")[..12];
}

public sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            provider.Lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
    }
}
