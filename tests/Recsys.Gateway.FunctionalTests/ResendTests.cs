using System.Net;
using System.Text.Json.Nodes;

namespace Recsys.Gateway.FunctionalTests;

/// <summary>The dedup guarantee at its boundaries, with the default limits: any accepted batch can be resent.</summary>
public sealed class ResendTests : IAsyncLifetime
{
    private RecsysServer _server = null!;

    public async Task InitializeAsync() => _server = await RecsysServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>Posts the batch; answers (accepted, duplicates).</summary>
    private async Task<(int Accepted, int Duplicates)> PostAsync(object[] batch)
    {
        using var response = await _server.PostEventsAsync(batch);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {body}");
        return ((int)body["accepted"]!, (int)body["duplicates"]!);
    }

    [Fact]
    public async Task A_full_batch_resent_whole_in_halves_and_after_interleaved_traffic_is_applied_once()
    {
        var user = Json.NewUser();
        var start = DateTimeOffset.UtcNow.AddHours(-2);
        object[] Events(string prefix, int count) => [.. Enumerable.Range(0, count).Select(i =>
            Json.Event(user, $"item-{i % 97}", id: $"{prefix}-{i}", timestamp: start.AddSeconds(i).ToString("O")))];
        var batch = Events("a", 1000); // the batch limit
        Assert.Equal((1000, 0), await PostAsync(batch));
        Assert.Equal((0, 1000), await PostAsync(batch));
        Assert.Equal((0, 500), await PostAsync(batch[..500]));
        Assert.Equal((0, 500), await PostAsync(batch[500..]));
        Assert.Equal((300, 0), await PostAsync(Events("b", 300))); // more than a batch has now come after the first ids
        for (var resend = 0; resend < 2; resend++)
        {
            Assert.Equal((0, 500), await PostAsync(batch[500..]));
            Assert.Equal((0, 500), await PostAsync(batch[..500]));
            Assert.Equal((0, 1000), await PostAsync(batch));
        }
        Assert.Equal(1300, (int)(await _server.GetJsonAsync($"/v1/users/{user}"))["eventCount"]!);
    }
}
