using System.Net;
using Recsys.Model;
using Recsys.Model.Training;

namespace Recsys.Gateway.FunctionalTests;

/// <summary>A model trained here on a shop where item i is followed by item i+1, served through real HTTP.</summary>
public sealed class NeuralServingFixture : IAsyncLifetime
{
    public const int Items = 40;
    public const string Version = "cyclic-v1";
    public const string NextVersion = "cyclic-v2";

    public string Folder { get; } = Directory.CreateTempSubdirectory("recsys-models-").FullName;

    public string CheckpointPath => Path.Combine(Folder, "cyclic-v1.rsm");

    /// <summary>The same weights saved as a new version: a swap to it is visible in every response's modelVersion.</summary>
    public string NextCheckpointPath => Path.Combine(Folder, "cyclic-v2.rsm");

    /// <summary>A checkpoint cut short: loading it must fail cleanly.</summary>
    public string TruncatedPath => Path.Combine(Folder, "truncated.rsm");

    public ModelCheckpoint Checkpoint { get; private set; } = null!;

    public Task InitializeAsync()
    {
        Checkpoint = Recsys.Tests.Shared.CyclicModel.Train(Items, users: 300, Version);
        CheckpointFile.Save(CheckpointPath, Checkpoint);
        CheckpointFile.Save(NextCheckpointPath, Checkpoint with { Metadata = new TrainingMetadata { Version = NextVersion } });
        var bytes = File.ReadAllBytes(CheckpointPath);
        File.WriteAllBytes(TruncatedPath, bytes[..(bytes.Length / 2)]);
        return Task.CompletedTask;
    }

    private static readonly DateTimeOffset Start = DateTimeOffset.UtcNow.AddHours(-1);

    /// <summary>A server with the v1 model loaded (plus <paramref name="settings"/>) and the model's items in its catalogue.</summary>
    public async Task<RecsysServer> StartServerAsync(params string[] settings)
    {
        // A generous intent budget: these tests check what the model answers, so a first encode slowed by parallel
        // tests must be waited for rather than answered by the fallback.
        var server = await RecsysServer.StartAsync(["Recsys:Silo:Model:Path=" + CheckpointPath, "Recsys:Silo:Model:Directory=" + Folder,
            "Recsys:Silo:Model:IntentBudget=00:00:10", .. settings]);
        await server.PostItemsAsync(Enumerable.Range(0, Items).Select(i => Json.Item($"item-{i}")).ToArray());
        return server;
    }

    /// <summary>Posts views of item-{i} for each of <paramref name="items"/>, a minute apart, starting an hour ago.</summary>
    public static async Task ViewAsync(RecsysServer server, string user, params int[] items) =>
        await ViewAsync(server, user, 0, items);

    public static async Task ViewAsync(RecsysServer server, string user, int startMinute, params int[] items)
    {
        var events = items.Select((item, i) => Json.Event(user, $"item-{item}", timestamp: Start.AddMinutes(startMinute + i).ToString("O"))).ToArray();
        using var response = await server.PostEventsAsync(events);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Folder, recursive: true);
        return Task.CompletedTask;
    }
}

public class NeuralServingTests(NeuralServingFixture fixture) : IClassFixture<NeuralServingFixture>
{
    private Task<RecsysServer> StartAsync() => fixture.StartServerAsync();

    private static Task ViewAsync(RecsysServer server, string user, params int[] items) => NeuralServingFixture.ViewAsync(server, user, items);

    [Fact]
    public async Task A_user_with_history_gets_the_models_next_item_with_its_version_and_a_reason()
    {
        await using var server = await StartAsync();
        var user = Json.NewUser();
        await ViewAsync(server, user, 10, 11, 12);
        var body = await server.GetJsonAsync($"/v1/users/{user}/recommendations?k=5");
        Assert.Equal(NeuralServingFixture.Version, (string)body["modelVersion"]!);
        var items = body["items"]!.AsArray();
        Assert.Equal("item-13", (string)items[0]!["itemId"]!);
        Assert.Equal(1.0, (double)items[0]!["score"]!);
        Assert.StartsWith("because you viewed item-", (string)items[0]!["reason"]!);
        Assert.DoesNotContain(items, i => (string)i!["itemId"]! is "item-10" or "item-11" or "item-12");

        var profile = await server.GetJsonAsync($"/v1/users/{user}");
        Assert.Equal(NeuralServingFixture.Version, (string)profile["intent"]!["modelVersion"]!);

        var cold = await server.GetJsonAsync($"/v1/users/{Json.NewUser()}/recommendations");
        Assert.Equal("fallback-v1", (string)cold["modelVersion"]!);
    }

    [Fact]
    public async Task The_next_request_after_an_event_reflects_it()
    {
        await using var server = await StartAsync();
        var user = Json.NewUser();
        await ViewAsync(server, user, 3, 4, 5);
        Assert.Equal("item-6", (await server.RecommendedIdsAsync(user))[0]);
        await NeuralServingFixture.ViewAsync(server, user, 10, 30);
        Assert.Equal("item-31", (await server.RecommendedIdsAsync(user))[0]);
    }

    [Fact]
    public async Task Served_top_10_equals_what_eval_computes_from_the_same_checkpoint_and_history()
    {
        await using var server = await StartAsync();
        var ranker = new ModelRanker(fixture.Checkpoint.Model);
        var random = new Random(9);
        for (var n = 0; n < 10; n++)
        {
            var user = Json.NewUser();
            var history = Enumerable.Range(0, random.Next(2, 9)).Select(_ => random.Next(NeuralServingFixture.Items)).Distinct().ToArray();
            await ViewAsync(server, user, history);
            var served = await server.RecommendedIdsAsync(user);

            var ids = fixture.Checkpoint.ItemIds;
            var indexes = history.Select(i => ids.ToList().IndexOf($"item-{i}")).ToArray();
            var sequence = new UserSequence(user, indexes, new byte[indexes.Length], new long[indexes.Length], []);
            var scores = new Model.Numerics.Matrix(1, ids.Count);
            ranker.Score([sequence], [indexes.Length], scores);
            var offline = Enumerable.Range(1, ids.Count - 1).Where(i => !indexes.Contains(i))
                .OrderByDescending(i => scores.Row(0)[i]).Take(10).Select(i => ids[i]);
            Assert.Equal(offline, served.Take(10));
        }
    }
}
