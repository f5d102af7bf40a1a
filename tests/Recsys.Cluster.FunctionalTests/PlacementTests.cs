using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Recsys.Model;
using Xunit.Abstractions;

namespace Recsys.Cluster.FunctionalTests;

/// <summary>
/// Silo roles on real processes: user grains only on workers, inference grains on the inference silo when there is
/// one and on the workers when there is none. Each silo reports its resident user grains (/v1/admin/cluster) and the
/// forward passes it ran (/metrics), so where each grain type lives is read off the silos themselves.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed partial class PlacementTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Items = 30;
    private const int Users = 24;
    private readonly string _folder = Directory.CreateTempSubdirectory("recsys-placement-").FullName;
    private readonly string _stream = "recsys.test." + Guid.NewGuid().ToString("N")[..8];
    private readonly List<SiloProcess> _silos = [];
    private TestDatabase _database = null!;

    private string ModelPath => Path.Combine(_folder, "cyclic.rsm");

    public async Task InitializeAsync()
    {
        _database = await ClusterServices.CreateDatabaseAsync();
        CheckpointFile.Save(ModelPath, Recsys.Tests.Shared.CyclicModel.Train(Items, users: 250, "cyclic-placement"));
    }

    public async Task DisposeAsync()
    {
        foreach (var silo in _silos)
        {
            await silo.DisposeAsync();
        }
        await _database.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    private async Task<SiloProcess[]> StartAsync(params (string Role, string Name)[] silos)
    {
        var started = silos.Select(s => SiloProcess.Start(s.Role, s.Name, _database, _stream, "Recsys:Silo:Model:Path=" + ModelPath,
            "Recsys:Silo:Model:IntentBudget=00:00:10")).ToArray();
        _silos.AddRange(started);
        await Task.WhenAll(started.Select(static s => s.WaitUntilReadyAsync()));
        return started;
    }

    [Fact]
    public async Task With_an_inference_silo_user_grains_live_on_the_workers_and_every_encode_runs_on_the_inference_silo()
    {
        var silos = await StartAsync(("gateway", "gateway"), ("worker", "w1"), ("worker", "w2"), ("inference", "inf"));
        await ServeNeuralListsToEveryUserAsync(silos[0]);

        var residents = await Task.WhenAll(silos.Select(ActiveUsersAsync));
        var encodes = await Task.WhenAll(silos.Select(EncodesAsync));
        output.WriteLine($"resident users (gateway, w1, w2, inf): {string.Join(", ", residents)}; encodes: {string.Join(", ", encodes)}");
        Assert.Equal(0, residents[0]);
        Assert.Equal(0, residents[3]);
        Assert.True(residents[1] > 0 && residents[2] > 0, "both workers should hold some of the users");
        Assert.Equal(Users, residents[1] + residents[2]);
        Assert.True(encodes[3] > 0, "the inference silo ran no forward pass");
        Assert.Equal(0, encodes[0] + encodes[1] + encodes[2]);
    }

    [Fact]
    public async Task Without_an_inference_silo_the_workers_encode()
    {
        var silos = await StartAsync(("gateway", "gateway"), ("worker", "w1"), ("worker", "w2"));
        await ServeNeuralListsToEveryUserAsync(silos[0]);

        var encodes = await Task.WhenAll(silos.Select(EncodesAsync));
        output.WriteLine($"encodes (gateway, w1, w2): {string.Join(", ", encodes)}");
        Assert.Equal(0, encodes[0]);
        Assert.True(encodes[1] > 0 && encodes[2] > 0, "each worker should encode for the users it holds");
    }

    /// <summary>Every user views three consecutive items; polls until each one's list comes from the model.</summary>
    private static async Task ServeNeuralListsToEveryUserAsync(SiloProcess gateway)
    {
        var start = DateTimeOffset.UtcNow.AddHours(-1);
        var events = Enumerable.Range(0, Users).SelectMany(user => Enumerable.Range(0, 3).Select(n => new
        {
            eventId = $"p-{user}-{n}", userId = $"shopper-{user}", itemId = $"item-{(user + n) % Items}", type = "view",
            timestamp = start.AddMinutes(n).ToString("O"),
        }));
        using (var posted = await gateway.Client.PostAsync("/v1/events",
                   new StringContent(JsonSerializer.Serialize(events), Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        }
        for (var user = 0; user < Users; user++)
        {
            var path = $"/v1/users/shopper-{user}/recommendations?k=5";
            await Poll.UntilAsync(async () =>
            {
                var body = await gateway.Client.GetFromJsonAsync<JsonNode>(path);
                return (string?)body!["modelVersion"] == "cyclic-placement";
            }, TimeSpan.FromSeconds(30), $"a neural list for shopper-{user}");
        }
    }

    private static async Task<int> ActiveUsersAsync(SiloProcess silo) =>
        (int)(await silo.Client.GetFromJsonAsync<JsonObject>("/v1/admin/cluster"))!["activeUsers"]!;

    /// <summary>Forward passes of the intent encoder this silo ran: the count of its encode batch-size histogram.</summary>
    private static async Task<long> EncodesAsync(SiloProcess silo)
    {
        var metrics = await silo.Client.GetStringAsync("/metrics");
        return EncodeCount().Matches(metrics).Sum(static m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"^recsys_encode_batch_size\w*_count(?:\{[^}]*\})? (\d+)", RegexOptions.Multiline)]
    private static partial Regex EncodeCount();
}
