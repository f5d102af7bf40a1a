using System.CommandLine;
using System.Text.Json.Nodes;
using Recsys.Cli;

namespace Recsys.Gateway.FunctionalTests;

/// <summary>The CLI verbs that feed a server, run in-process against a real one.</summary>
public sealed class CliTests : IAsyncLifetime
{
    private RecsysServer _server = null!;
    private readonly string _folder = Directory.CreateTempSubdirectory("recsys-cli-").FullName;

    public async Task InitializeAsync() => _server = await RecsysServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await CliApp.CreateRootCommand().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    private string File(string name, string content)
    {
        var path = Path.Combine(_folder, name);
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public async Task Import_reports_bad_lines_by_number_and_sends_nothing_unless_told_to_skip_them()
    {
        var prefix = Guid.NewGuid().ToString("N")[..8];
        var csv = File("items.csv", $""""
            itemId,title,category,price,inStock
            {prefix}-lamp,"Lamp, large ""XL""",lighting,19.99,true
            {prefix}-bad,Bad,lighting,abc,true
            {prefix}-chair,Chair,furniture,45,no
            """");
        var (exit, output, error) = await RunAsync("import", "items", csv, "--url", _server.BaseAddress.ToString(), "--api-key", RecsysServer.ApiKey);
        Assert.Equal(1, exit);
        Assert.Contains("line 3: price: 'abc' is not a number", error, StringComparison.Ordinal);
        Assert.Contains("2 valid records, 1 errors", output, StringComparison.Ordinal);
        Assert.Contains("Nothing sent", output, StringComparison.Ordinal);
        Assert.Null(_server.Catalogue.Get($"{prefix}-lamp"));

        (exit, _, _) = await RunAsync("import", "items", csv, "--skip-invalid", "--url", _server.BaseAddress.ToString(), "--api-key", RecsysServer.ApiKey);
        Assert.Equal(1, exit); // still says the file had errors
        var lamp = _server.Catalogue.Get($"{prefix}-lamp")!.Item;
        Assert.Equal("Lamp, large \"XL\"", lamp.Title);
        Assert.Equal(19.99m, lamp.Price);
        Assert.False(_server.Catalogue.Get($"{prefix}-chair")!.Item.InStock);
    }

    [Fact]
    public async Task Import_of_events_applies_them_once_and_a_second_import_finds_them_known()
    {
        var user = Json.NewUser();
        var jsonl = File("events.jsonl", string.Join('\n',
            $$"""{"eventId": "{{user}}-1", "userId": "{{user}}", "itemId": "a", "type": "view", "timestamp": "2026-01-01T10:00:00Z"}""",
            "",
            $$"""{"eventId": "{{user}}-2", "userId": "{{user}}", "itemId": "b", "type": "purchase", "timestamp": "2026-01-01T10:01:00Z"}"""));
        var (exit, output, _) = await RunAsync("import", "events", jsonl, "--url", _server.BaseAddress.ToString(), "--api-key", RecsysServer.ApiKey);
        Assert.Equal(0, exit);
        Assert.Contains("2 applied, 0 already known", output, StringComparison.Ordinal);
        (exit, output, _) = await RunAsync("import", "events", jsonl, "--url", _server.BaseAddress.ToString(), "--api-key", RecsysServer.ApiKey);
        Assert.Equal(0, exit);
        Assert.Contains("0 applied, 2 already known", output, StringComparison.Ordinal);
        Assert.Equal(["b", "a"], await _server.RecentItemsAsync(user));
    }

    [Fact]
    public async Task Import_names_the_line_and_field_of_a_bad_jsonl_event()
    {
        var jsonl = File("bad.jsonl", """
            {"eventId": "x", "userId": "u", "itemId": "a", "type": "view", "timestamp": "2026-01-01T10:00:00Z"}
            {"eventId": "y", "userId": "u", "itemId": "a", "type": "wink", "timestamp": "2026-01-01T10:00:00Z"}
            {"eventId": "z", "userId": "u", "itemId": "a", "type": "view", "timestamp": "2026-01-01T10:00:00Z"
            """);
        var (exit, _, error) = await RunAsync("import", "events", jsonl, "--dry-run");
        Assert.Equal(1, exit);
        Assert.Contains("line 2: type: 'wink' is not an event type", error, StringComparison.Ordinal);
        Assert.Contains("line 3: not valid JSON", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_names_the_line_of_text_that_is_not_valid_unicode()
    {
        var path = Path.Combine(_folder, "text.jsonl");
        var good = """{"eventId": "x", "userId": "u", "itemId": "a", "type": "view", "timestamp": "2026-01-01T10:00:00Z"}""";
        var bytes = new List<byte>(System.Text.Encoding.UTF8.GetPreamble());
        bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(good + "\n"));
        bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(good.Replace("\"x\"", "\"\\ud800\"", StringComparison.Ordinal) + "\n"));
        bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(good.Replace("\"a\"", "\"a", StringComparison.Ordinal)[..^1]));
        bytes.AddRange([0xff, (byte)'"', (byte)'}', (byte)'\n']);
        bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(good.Replace("\"x\"", "\"w\"", StringComparison.Ordinal)));
        await System.IO.File.WriteAllBytesAsync(path, [.. bytes]);

        var (exit, output, error) = await RunAsync("import", "events", path, "--dry-run");
        Assert.Equal(1, exit);
        Assert.Contains("line 2: eventId: is not valid Unicode text", error, StringComparison.Ordinal);
        Assert.Contains("line 3: is not valid UTF-8 text", error, StringComparison.Ordinal);
        Assert.Contains("2 valid records, 2 errors", output, StringComparison.Ordinal); // the byte-order mark is not an error
    }

    [Fact]
    public async Task Simulate_sends_the_events_it_says_and_the_server_applies_them_all()
    {
        var before = _server.AcceptedEvents;
        var (exit, output, error) = await RunAsync("simulate", "--events", "3000", "--batch", "100", "--concurrency", "3", "--users", "100",
            "--url", _server.BaseAddress.ToString(), "--api-key", RecsysServer.ApiKey, "--json");
        Assert.True(exit == 0, error);
        var result = JsonNode.Parse(output)!;
        Assert.Equal(3000, (int)result["events"]!);
        Assert.Equal(3000, (int)result["accepted"]!);
        Assert.Equal(0, (int)result["failedRequests"]!);
        Assert.Equal(30, (int)result["requests"]!);
        Assert.Equal(3000, _server.AcceptedEvents - before);
        Assert.Contains("Catalogue: 1920 items upserted", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Simulate_without_a_key_fails_with_the_servers_reason()
    {
        var (exit, _, error) = await RunAsync("simulate", "--events", "10", "--url", _server.BaseAddress.ToString(), "--skip-catalogue");
        Assert.Equal(1, exit);
        Assert.Contains("401", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Train_saves_a_checkpoint_that_eval_scores_with_the_documented_json_keys()
    {
        var random = new Random(2);
        var lines = new List<string>();
        for (var u = 0; u < 120; u++)
        {
            var item = random.Next(30);
            for (var i = 0; i < 8; i++)
            {
                lines.Add($"{u} {item}");
                item = (item + 1) % 30;
            }
        }
        var data = File("cyclic.txt", string.Join('\n', lines));
        var model = Path.Combine(_folder, "cyclic.rsm");
        var (exit, _, error) = await RunAsync("train", "--data", data, "--format", "Sasrec", "--out", model,
            "--epochs", "6", "--dim", "16", "--blocks", "1", "--max-length", "10", "--negatives", "20", "--evaluate-every", "3", "--lr", "0.005");
        Assert.True(exit == 0, error);
        Assert.Contains("epoch 6: loss", error, StringComparison.Ordinal);
        Assert.Contains("Saved cyclic.rsm", error, StringComparison.Ordinal);

        var (evalExit, output, evalError) = await RunAsync("eval", "--model", model, "--data", data, "--protocol", "Full", "--json");
        Assert.True(evalExit == 0, evalError);
        var result = JsonNode.Parse(output)!.AsObject();
        foreach (var key in new[] { "users", "protocol", "hr@10", "ndcg@10", "mrr", "coverage" })
        {
            Assert.True(result.ContainsKey(key), $"eval --json lacks '{key}': {output}");
        }
        Assert.Equal(120, (int)result["users"]!);
        Assert.Equal("full", (string)result["protocol"]!);
        Assert.True((double)result["hr@10"]! > 0.5, $"a model of a deterministic cycle should mostly hit: {output}");

        var (recommendExit, recommended, recommendError) = await RunAsync("recommend", "--model", model, "--data", data, "--users", "3", "--k", "5");
        Assert.True(recommendExit == 0, recommendError);
        var firstUser = lines.Where(l => l.StartsWith("0 ", StringComparison.Ordinal)).Select(l => l.Split(' ')[1]).ToHashSet();
        var answers = recommended.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(3, answers.Count);
        var top = answers[0]["items"]!.AsArray().Select(i => (string)i!["itemId"]!).ToList();
        Assert.Equal(5, top.Count);
        Assert.DoesNotContain(top, firstUser.Contains); // seen items are never recommended
        var scores = answers[0]["items"]!.AsArray().Select(i => (double)i!["score"]!).ToList();
        Assert.Equal(scores.OrderByDescending(x => x), scores);

        System.IO.File.WriteAllText(model, "garbage");
        (evalExit, _, evalError) = await RunAsync("eval", "--model", model, "--data", data);
        Assert.Equal(1, evalExit);
        Assert.Contains("not a Recsys model checkpoint", evalError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Train_names_the_bad_line_of_its_data()
    {
        var data = File("bad.txt", "1 10\n1 11\n1\n");
        var (exit, _, error) = await RunAsync("train", "--data", data, "--format", "Sasrec", "--out", Path.Combine(_folder, "x.rsm"));
        Assert.Equal(1, exit);
        Assert.Contains("bad.txt line 3: expected 'user item'", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("simulate --batch 0", "--batch must be from 1 to 1000")]
    [InlineData("serve --demo-users 0", "--demo-users must be at least 1")]
    [InlineData("serve --set nonsense", "--set takes key=value")]
    public async Task Bad_options_are_explained(string args, string message)
    {
        var (exit, _, error) = await RunAsync(args.Split(' '));
        Assert.Equal(2, exit);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }
}
