using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Recsys.Silo.Serving;

namespace Recsys.Gateway.FunctionalTests;

/// <summary>The model registry over HTTP: hot swap, A/B candidates, and feedback per model version.</summary>
public class ModelRegistryTests(NeuralServingFixture fixture) : IClassFixture<NeuralServingFixture>
{
    private static async Task<(HttpStatusCode Status, JsonNode? Body)> AdminAsync(RecsysServer server, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body as string ?? JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json");
        }
        using var response = await server.Writer.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length > 0 ? JsonNode.Parse(text) : null);
    }

    private static async Task<JsonNode> LoadAsync(RecsysServer server, object body)
    {
        var (status, json) = await AdminAsync(server, HttpMethod.Post, "/v1/admin/models", body);
        Assert.True(status == HttpStatusCode.OK, $"load answered {(int)status}: {json}");
        return json!;
    }

    private static async Task<string> ServedVersionAsync(RecsysServer server, string user) =>
        (string)(await server.GetJsonAsync($"/v1/users/{user}/recommendations?k=5"))["modelVersion"]!;

    private static string[] Versions(JsonNode models) =>
        models["models"]!.AsArray().Select(m => $"{(string)m!["version"]!}:{(string)m["role"]!}").ToArray();

    [Fact]
    public async Task Admin_endpoints_need_an_api_key()
    {
        await using var server = await fixture.StartServerAsync();
        using var response = await server.Anonymous.GetAsync("/v1/admin/models");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using var load = await server.PostJsonAsync("/v1/admin/models", JsonSerializer.Serialize(new { path = fixture.NextCheckpointPath }), server.Client);
        Assert.Equal(HttpStatusCode.Forbidden, load.StatusCode); // a read key is not an admin key
        Assert.Equal([$"{NeuralServingFixture.Version}:primary"], Versions((await AdminAsync(server, HttpMethod.Get, "/v1/admin/models")).Body!));
    }

    [Fact]
    public async Task Bad_load_requests_name_the_problem_and_leave_the_served_model_alone()
    {
        await using var server = await fixture.StartServerAsync();
        async Task ExpectFieldErrorAsync(object body, string field, string fragment)
        {
            var (status, json) = await AdminAsync(server, HttpMethod.Post, "/v1/admin/models", body);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            var messages = json!["errors"]?[field]?.AsArray().Select(m => (string)m!).ToArray() ?? [];
            Assert.True(messages.Any(m => m.Contains(fragment, StringComparison.Ordinal)), $"expected {field} error with '{fragment}', got {json}");
        }
        await ExpectFieldErrorAsync(new { role = "primary" }, "path", "is required");
        await ExpectFieldErrorAsync(new { path = fixture.NextCheckpointPath, role = "beta" }, "role", "expected primary or candidate");
        await ExpectFieldErrorAsync(new { path = fixture.NextCheckpointPath, role = "candidate" }, "share", "is required for a candidate");
        await ExpectFieldErrorAsync(new { path = fixture.NextCheckpointPath, role = "candidate", share = 1.5 }, "share", "not above 0 and below 1");
        await ExpectFieldErrorAsync(new { path = fixture.NextCheckpointPath, share = 0.5 }, "share", "applies to a candidate only");
        await ExpectFieldErrorAsync(new { path = Path.Combine(fixture.Folder, "missing.rsm") }, "path", "does not exist");

        var (status, json) = await AdminAsync(server, HttpMethod.Post, "/v1/admin/models", "{\"path\": 42}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("path", (string)json!["detail"]!);

        (status, json) = await AdminAsync(server, HttpMethod.Post, "/v1/admin/models", new { path = fixture.TruncatedPath });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Contains("truncated.rsm", (string)json!["detail"]!);

        (status, json) = await AdminAsync(server, HttpMethod.Post, "/v1/admin/models", new { path = fixture.CheckpointPath });
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains(NeuralServingFixture.Version, (string)json!["detail"]!);

        (status, _) = await AdminAsync(server, HttpMethod.Delete, "/v1/admin/models/candidate");
        Assert.Equal(HttpStatusCode.NotFound, status);

        var user = Json.NewUser();
        await NeuralServingFixture.ViewAsync(server, user, 3, 4);
        Assert.Equal(NeuralServingFixture.Version, await ServedVersionAsync(server, user));
    }

    [Fact]
    public async Task A_model_folder_confines_admin_loads()
    {
        await using var server = await fixture.StartServerAsync("Recsys:Silo:Model:Directory=" + fixture.Folder);
        var (status, json) = await AdminAsync(server, HttpMethod.Post, "/v1/admin/models", new { path = "../elsewhere.rsm" });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("outside the model folder", json!["errors"]!["path"]![0]!.ToString());

        var loaded = await LoadAsync(server, new { path = Path.GetFileName(fixture.NextCheckpointPath) });
        Assert.Equal([$"{NeuralServingFixture.NextVersion}:primary"], Versions(loaded));
    }

    [Fact]
    public async Task Loads_of_files_outside_the_folder_or_of_special_files_are_refused_and_never_block_the_next()
    {
        await using var server = await fixture.StartServerAsync();
        async Task<string> RefusedAsync(string path)
        {
            var (status, json) = await AdminAsync(server, HttpMethod.Post, "/v1/admin/models", new { path });
            Assert.True(status == HttpStatusCode.BadRequest, $"{path}: {(int)status} {json}");
            var message = (string)json!["errors"]!["path"]![0]!;
            Assert.DoesNotContain(Environment.CurrentDirectory, message, StringComparison.Ordinal); // never the server's own folders
            return message;
        }
        // Before, "/etc/shadow" answered "bad magic bytes": the key holder learnt that it exists and was opened.
        Assert.Contains("outside the model folder", await RefusedAsync("/etc/shadow"), StringComparison.Ordinal);
        Assert.Contains("outside the model folder", await RefusedAsync("/dev/zero"), StringComparison.Ordinal);
        var link = Path.Combine(fixture.Folder, $"passwd-{Guid.NewGuid():N}.rsm");
        File.CreateSymbolicLink(link, "/etc/passwd");
        Assert.Contains("outside the model folder", await RefusedAsync(Path.GetFileName(link)), StringComparison.Ordinal);
        if (OperatingSystem.IsLinux())
        {
            var fifo = Path.Combine(fixture.Folder, $"pipe-{Guid.NewGuid():N}.rsm");
            using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", fifo))
            {
                await mkfifo.WaitForExitAsync();
            }
            Assert.Contains("not a regular file", await RefusedAsync(Path.GetFileName(fifo)), StringComparison.Ordinal);
        }
        var loaded = await LoadAsync(server, new { path = Path.GetFileName(fixture.NextCheckpointPath) });
        Assert.Equal([$"{NeuralServingFixture.NextVersion}:primary"], Versions(loaded));
    }

    [Fact]
    public async Task Admin_loads_are_confined_to_the_default_model_folder_when_none_is_configured()
    {
        await using var server = await RecsysServer.StartAsync(["Recsys:Silo:Model:Path=" + fixture.CheckpointPath]);
        var (status, json) = await AdminAsync(server, HttpMethod.Post, "/v1/admin/models", new { path = fixture.NextCheckpointPath });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("outside the model folder", (string)json!["errors"]!["path"]![0]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_checkpoint_over_the_size_limit_is_refused_with_the_setting_named()
    {
        await using var server = await fixture.StartServerAsync("Recsys:Silo:Model:MaxCheckpointBytes=1024");
        var (status, json) = await AdminAsync(server, HttpMethod.Post, "/v1/admin/models", new { path = fixture.NextCheckpointPath });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("MaxCheckpointBytes", (string)json!["errors"]!["path"]![0]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_model_that_does_not_fit_the_catalogue_is_reported_and_the_fallback_fills_every_list()
    {
        // The demo shop's items are not the model's (as with the README's Games model and serve --demo).
        await using var server = await RecsysServer.StartAsync(
            ["Recsys:Silo:Model:Path=" + fixture.CheckpointPath, "Recsys:Silo:Model:Directory=" + fixture.Folder], demo: true);
        var user = Domain.Simulation.SyntheticShop.UserId(7);
        await Poll.UntilAsync(async () => (string?)(await server.GetJsonAsync($"/v1/users/{user}"))["intent"]?["modelVersion"]
            == NeuralServingFixture.Version, TimeSpan.FromSeconds(30), "the demo user's first encode");
        var list = await server.GetJsonAsync($"/v1/users/{user}/recommendations?k=10");
        Assert.Equal(NeuralServingFixture.Version, (string)list["modelVersion"]!);
        var items = list["items"]!.AsArray();
        Assert.Equal(10, items.Count); // it answered "items": [] before
        Assert.All(items, item => Assert.False(string.IsNullOrEmpty((string?)item!["reason"])));
        Assert.Equal(10, items.Select(i => (string)i!["itemId"]!).Distinct().Count());
        var similar = await server.GetJsonAsync($"/v1/items/{(string)items[0]!["itemId"]!}/similar?k=5");
        Assert.Equal(5, similar["items"]!.AsArray().Count);

        var model = (await AdminAsync(server, HttpMethod.Get, "/v1/admin/models")).Body!["models"]![0]!;
        Assert.Equal(0, (int)model["catalogueItemsKnown"]!);
        Assert.Contains("knows 0 of the catalogue's", (string)model["warning"]!, StringComparison.Ordinal);
        Assert.Contains(server.Logs.Lines, line => line.StartsWith("Warning", StringComparison.Ordinal)
            && line.Contains("does not fit the catalogue", StringComparison.Ordinal));
        var swapped = await LoadAsync(server, new { path = Path.GetFileName(fixture.NextCheckpointPath) });
        Assert.NotNull((string?)swapped["models"]![0]!["warning"]); // the admin answer of a hot swap says it too
        Assert.Equal(10, (await server.GetJsonAsync($"/v1/users/{user}/recommendations?k=10"))["items"]!.AsArray().Count);
    }

    [Fact]
    public async Task A_model_that_knows_the_catalogue_reports_its_coverage_without_a_warning()
    {
        await using var server = await fixture.StartServerAsync();
        var model = (await AdminAsync(server, HttpMethod.Get, "/v1/admin/models")).Body!["models"]![0]!;
        Assert.Equal(NeuralServingFixture.Items, (int)model["catalogueItemsKnown"]!);
        Assert.Equal(1.0, (double)model["catalogueCoverage"]!);
        Assert.Null(model["warning"]);
    }

    [Fact]
    public async Task A_hot_swap_under_load_fails_no_request_and_new_requests_get_the_new_version()
    {
        await using var server = await fixture.StartServerAsync();
        var users = Enumerable.Range(0, 20).Select(_ => Json.NewUser()).ToArray();
        for (var u = 0; u < users.Length; u++)
        {
            await NeuralServingFixture.ViewAsync(server, users[u], u, u + 1, u + 2);
        }

        var failures = new ConcurrentQueue<string>();
        var answered = new ConcurrentDictionary<string, int>();
        long afterSwapStarted = 0;
        var swapped = 0;
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var swappedBefore = Volatile.Read(ref swapped) == 1;
                using var response = await server.Client.GetAsync($"/v1/users/{users[(worker * 7 + n) % users.Length]}/recommendations?k=10");
                var body = await response.Content.ReadAsStringAsync();
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    failures.Enqueue($"{(int)response.StatusCode}: {body}");
                    continue;
                }
                var version = (string)JsonNode.Parse(body)!["modelVersion"]!;
                answered.AddOrUpdate(version, 1, static (_, c) => c + 1);
                if (swappedBefore && version != NeuralServingFixture.NextVersion)
                {
                    failures.Enqueue($"a request sent after the swap returned was served by {version}");
                }
                if (swappedBefore)
                {
                    Interlocked.Increment(ref afterSwapStarted);
                }
            }
        })).ToArray();

        await Poll.UntilAsync(() => answered.Values.Sum() >= 200, TimeSpan.FromSeconds(60), "200 requests before the swap");
        var loaded = await LoadAsync(server, new { path = fixture.NextCheckpointPath, role = "primary" });
        Volatile.Write(ref swapped, 1);
        Assert.Equal([$"{NeuralServingFixture.NextVersion}:primary"], Versions(loaded));
        await Poll.UntilAsync(() => Interlocked.Read(ref afterSwapStarted) >= 200, TimeSpan.FromSeconds(60), "200 requests after the swap");
        await stop.CancelAsync();
        await Task.WhenAll(load);

        Assert.Empty(failures);
        Assert.True(answered.GetValueOrDefault(NeuralServingFixture.Version) > 0);
        Assert.True(answered.GetValueOrDefault(NeuralServingFixture.NextVersion) >= 200);
        // The new model re-encoded the user lazily: the intent now carries its version, and it still predicts the next item.
        Assert.Equal(NeuralServingFixture.NextVersion, (string)(await server.GetJsonAsync($"/v1/users/{users[5]}"))["intent"]!["modelVersion"]!);
        Assert.Equal("item-8", (await server.RecommendedIdsAsync(users[5]))[0]);
    }

    [Fact]
    public async Task An_ab_candidate_serves_a_stable_share_of_users_until_promoted()
    {
        await using var server = await fixture.StartServerAsync();
        var users = Enumerable.Range(0, 40).Select(i => $"ab-user-{i}").ToArray();
        foreach (var user in users)
        {
            await NeuralServingFixture.ViewAsync(server, user, 1, 2);
        }
        var loaded = await LoadAsync(server, new { path = fixture.NextCheckpointPath, role = "candidate", share = 0.5 });
        Assert.Equal([$"{NeuralServingFixture.Version}:primary", $"{NeuralServingFixture.NextVersion}:candidate"], Versions(loaded));
        Assert.Equal(0.5, (double)loaded["models"]![1]!["share"]!);

        var assigned = new Dictionary<string, string>();
        for (var round = 0; round < 3; round++)
        {
            foreach (var user in users)
            {
                var version = await ServedVersionAsync(server, user);
                var expected = ModelAssignment.Bucket(user) < 0.5 ? NeuralServingFixture.NextVersion : NeuralServingFixture.Version;
                Assert.Equal(expected, version);
                Assert.Equal(assigned.GetValueOrDefault(user, version), version);
                assigned[user] = version;
            }
        }
        Assert.InRange(assigned.Values.Count(v => v == NeuralServingFixture.NextVersion), 8, 32);

        var (status, promoted) = await AdminAsync(server, HttpMethod.Post, "/v1/admin/models/candidate/promote");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal([$"{NeuralServingFixture.NextVersion}:primary"], Versions(promoted!));
        foreach (var user in users)
        {
            Assert.Equal(NeuralServingFixture.NextVersion, await ServedVersionAsync(server, user));
        }
    }

    [Fact]
    public async Task Events_carrying_a_recommendation_id_count_as_feedback_for_the_version_that_served_it()
    {
        await using var server = await fixture.StartServerAsync();
        var user = Json.NewUser();
        await NeuralServingFixture.ViewAsync(server, user, 5, 6);
        var recommendations = await server.GetJsonAsync($"/v1/users/{user}/recommendations?k=5");
        var recommendationId = (string)recommendations["recommendationId"]!;
        var item = (string)recommendations["items"]![0]!["itemId"]!;
        await server.GetJsonAsync($"/v1/users/{user}/recommendations?k=5");
        await server.GetJsonAsync($"/v1/users/{Json.NewUser()}/recommendations?k=5"); // a cold user: the fallback's list

        var click = Json.Event(user, item, "click", id: "click-1", recommendationId: recommendationId);
        using (var response = await server.PostEventsAsync(click, Json.Event(user, item, "purchase", recommendationId: recommendationId)))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
        using (var replay = await server.PostEventsAsync(click))
        {
            Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        }
        using (var bad = await server.PostEventsAsync(Json.Event(user, item, "click", recommendationId: "not-one-of-ours")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains("events[0].recommendationId", await bad.Content.ReadAsStringAsync());
        }
        // 70 well-formed ids for made-up versions (more than the 64 versions the ledger tracks) filled its slots before,
        // and real versions' feedback went to "other". Unsigned, each is refused and nothing is counted for them.
        var forged = Enumerable.Range(0, 70).Select(i => Json.Event(user, item, "click",
            recommendationId: $"{Guid.NewGuid():N}.{Convert.ToHexStringLower(BitConverter.GetBytes((long)i))}.forged-v{i}")).ToArray();
        using (var bad = await server.PostEventsAsync(forged))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains("events[69].recommendationId", await bad.Content.ReadAsStringAsync());
        }

        var feedback = (await AdminAsync(server, HttpMethod.Get, "/v1/admin/models")).Body!["feedback"]!.AsArray()
            .ToDictionary(f => (string)f!["modelVersion"]!);
        Assert.DoesNotContain(feedback.Keys, version => version.StartsWith("forged", StringComparison.Ordinal) || version == "other");
        var neural = feedback[NeuralServingFixture.Version]!;
        Assert.Equal(2, (long)neural["recommendations"]!);
        Assert.Equal(1, (long)neural["clicks"]!); // the replayed click is not counted again
        Assert.Equal(1, (long)neural["purchases"]!);
        Assert.Equal(0.5, (double)neural["clickThroughRate"]!);
        Assert.Equal(0.5, (double)neural["purchaseRate"]!);
        Assert.Equal(1, (long)feedback["fallback-v1"]!["recommendations"]!);
        Assert.Equal(0, (long)feedback["fallback-v1"]!["clicks"]!);
    }
}
