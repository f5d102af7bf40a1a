using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Recsys.Contracts;
using Recsys.Model;
using Recsys.Model.Training;

namespace Recsys.ServingLoad;

/// <summary>
/// <c>load</c>: every item of a SASRec-format dataset into the catalogue and every user's history as view events.
/// <c>probe</c>: for users copied from the dataset, the served top-10 must equal the checkpoint's offline top-10
/// for the same history (parity), and after one more event, how long until a GET reflects it (freshness).
/// </summary>
internal static class LoadTool
{
    private const string Usage = """
        recsys-serving-load: loads a dataset into a running server and measures freshness and parity.

          load  --url URL --api-key KEY --data Video.txt
                Posts every item (catalogue, in stock) and every user's history (view events a minute apart,
                ending a day ago) from a SASRec-format file (`user item` per line, time-ordered).
          probe --url URL --api-key KEY --data Video.txt --model games.rsm [--probes 300] [--out freshness.tsv]
                For each probe: a new user with a dataset user's history but its last item; waits until the served
                top-10 equals the checkpoint's own top-10 for that history (parity), then posts the last item and
                times POST-returned → first GET whose top-10 equals the offline top-10 for the whole history.
          state-freshness --url URL --api-key KEY [--probes 300]
                For each probe: one event for a new user, then GET /v1/users/{id} back to back; times POST-returned →
                first GET that shows the event (cluster mode: through the stream, a worker and PostgreSQL).
        """;

    private static readonly DateTimeOffset HistoryStart = DateTimeOffset.UtcNow.AddDays(-30);

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 1 : 0;
        }
        var options = ParseOptions(args.Skip(1).ToArray());
        string Required(string name) => options.TryGetValue(name, out var value) ? value : throw new ArgumentException($"--{name} is required\n\n{Usage}");
        try
        {
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 8 }) { BaseAddress = new Uri(Required("url")), Timeout = TimeSpan.FromSeconds(60) };
            http.DefaultRequestHeaders.Add("X-Api-Key", Required("api-key"));
            if (args[0] == "state-freshness")
            {
                await StateFreshnessAsync(http, int.Parse(options.GetValueOrDefault("probes", "300"), System.Globalization.CultureInfo.InvariantCulture));
                return 0;
            }
            var data = DataImport.Read(Required("data"), DataFormat.Sasrec);
            switch (args[0])
            {
                case "load":
                    await LoadAsync(http, data);
                    return 0;
                case "probe":
                    var probes = int.Parse(options.GetValueOrDefault("probes", "300"), System.Globalization.CultureInfo.InvariantCulture);
                    await ProbeAsync(http, data, CheckpointFile.Load(Required("model")), probes, options.GetValueOrDefault("out"));
                    return 0;
                default:
                    Console.Error.WriteLine($"unknown verb '{args[0]}'\n\n{Usage}");
                    return 1;
            }
        }
        catch (Exception ex) when (ex is ArgumentException or IOException or HttpRequestException or InvalidDataException)
        {
            Console.Error.WriteLine(ex.Message);
            return 1;
        }
    }

    private static Dictionary<string, string> ParseOptions(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"expected an option at '{args[i]}'\n\n{Usage}");
            }
            options[args[i][2..]] = args[i + 1];
        }
        return options;
    }

    private static async Task LoadAsync(HttpClient http, InteractionData data)
    {
        var watch = Stopwatch.StartNew();
        var items = data.ItemIds.Skip(1).Select(id => new ItemRequest(id, "item " + id, "games", 20m, true)).ToList();
        foreach (var chunk in items.Chunk(10_000))
        {
            (await http.PostAsJsonAsync("/v1/items", chunk, ApiJsonContext.Default.ItemRequestArray)).EnsureSuccessStatusCode();
        }
        Console.WriteLine($"catalogue: {items.Count:N0} items in {watch.Elapsed.TotalSeconds:F1} s");

        var events = data.Users.SelectMany(user => HistoryEvents(user.UserId, user.Items.Select(i => data.ItemIds[i]).ToArray(), "load")).ToList();
        var sent = 0L;
        var progress = Stopwatch.StartNew();
        await Parallel.ForEachAsync(events.Chunk(1000), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (chunk, cancellationToken) =>
        {
            (await http.PostAsJsonAsync("/v1/events", chunk, ApiJsonContext.Default.EventRequestArray, cancellationToken)).EnsureSuccessStatusCode();
            var total = Interlocked.Add(ref sent, chunk.Length);
            if (progress.ElapsedMilliseconds > 2000)
            {
                progress.Restart();
                Console.WriteLine($"  events {total:N0}/{events.Count:N0} ({100.0 * total / events.Count:F0} %)");
            }
        });
        Console.WriteLine($"histories: {data.Users.Count:N0} users, {events.Count:N0} events in {watch.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>A history as view events a minute apart; the same timestamps feed the offline encoder.</summary>
    private static IEnumerable<EventRequest> HistoryEvents(string userId, string[] items, string tag, int first = 0) =>
        items.Select((item, i) => new EventRequest($"{tag}-{userId}-{first + i}", userId, item, "view", HistoryStart.AddMinutes(first + i), null));

    private static async Task ProbeAsync(HttpClient http, InteractionData data, ModelCheckpoint checkpoint, int probes, string? outPath)
    {
        var ranker = new ModelRanker(checkpoint.Model);
        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 1; i < checkpoint.ItemIds.Count; i++)
        {
            vocabulary[checkpoint.ItemIds[i]] = i;
        }
        var random = new Random(7);
        var candidates = data.Users.Where(u => u.Items.Length is >= 4 and <= 40).ToList();
        var run = Guid.NewGuid().ToString("N")[..8];
        var freshness = new List<double>();
        var parityMatches = 0;
        var parityChecked = 0;
        var timeouts = 0;
        using var log = outPath is null ? null : new StreamWriter(outPath);
        log?.WriteLine("probe\tparity\tfreshness_ms\tgets");
        for (var p = 0; p < probes; p++)
        {
            var source = candidates[random.Next(candidates.Count)];
            var items = source.Items.Select(i => data.ItemIds[i]).ToArray();
            var user = $"probe-{run}-{p}";
            await PostAsync(http, HistoryEvents(user, items[..^1], run).ToArray());
            var prefixTop = OfflineTop10(ranker, checkpoint, vocabulary, user, items[..^1]);
            var (parity, _, _) = await PollUntilAsync(http, user, prefixTop, TimeSpan.FromSeconds(2));
            parityChecked++;
            parityMatches += parity ? 1 : 0;

            var fullTop = OfflineTop10(ranker, checkpoint, vocabulary, user, items);
            await PostAsync(http, HistoryEvents(user, items[^1..], run, items.Length - 1).ToArray());
            var posted = Stopwatch.GetTimestamp();
            var (fresh, elapsed, gets) = await PollUntilAsync(http, user, fullTop, TimeSpan.FromSeconds(2), posted);
            if (fresh)
            {
                freshness.Add(elapsed.TotalMilliseconds);
            }
            else
            {
                timeouts++;
            }
            log?.WriteLine($"{p}\t{parity}\t{(fresh ? elapsed.TotalMilliseconds.ToString("F2", System.Globalization.CultureInfo.InvariantCulture) : "timeout")}\t{gets}");
            if ((p + 1) % 50 == 0)
            {
                Console.WriteLine($"  probes {p + 1}/{probes}: parity {parityMatches}/{parityChecked}, fresh median {Percentile(freshness, 50):F1} ms");
            }
        }
        Console.WriteLine($"parity: {parityMatches}/{parityChecked} probes served exactly the offline top-10");
        Console.WriteLine($"freshness (POST returned → first GET reflecting it): p50 {Percentile(freshness, 50):F1} ms, p99 {Percentile(freshness, 99):F1} ms, " +
                          $"max {(freshness.Count > 0 ? freshness.Max() : double.NaN):F1} ms over {freshness.Count} probes; {timeouts} not reflected within 2 s");
    }

    private static async Task StateFreshnessAsync(HttpClient http, int probes)
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var freshness = new List<double>(probes);
        var timeouts = 0;
        for (var probe = 0; probe < probes; probe++)
        {
            var user = $"fresh-{run}-{probe}";
            await PostAsync(http, [new EventRequest($"{user}-e", user, "item-1", "view", DateTimeOffset.UtcNow, null)]);
            var start = Stopwatch.GetTimestamp();
            while (true)
            {
                var profile = await http.GetFromJsonAsync($"/v1/users/{user}", ApiJsonContext.Default.UserProfileResponse);
                var elapsed = Stopwatch.GetElapsedTime(start);
                if (profile!.EventCount > 0)
                {
                    freshness.Add(elapsed.TotalMilliseconds);
                    break;
                }
                if (elapsed > TimeSpan.FromSeconds(10))
                {
                    timeouts++;
                    break;
                }
            }
        }
        Console.WriteLine($"state freshness (POST returned → first GET /v1/users/{{id}} showing the event): p50 {Percentile(freshness, 50):F1} ms, " +
                          $"p99 {Percentile(freshness, 99):F1} ms, max {(freshness.Count > 0 ? freshness.Max() : double.NaN):F1} ms over {freshness.Count} probes; " +
                          $"{timeouts} not shown within 10 s");
    }

    private static async Task PostAsync(HttpClient http, EventRequest[] events)
    {
        using var response = await http.PostAsJsonAsync("/v1/events", events, ApiJsonContext.Default.EventRequestArray);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"POST /v1/events answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    /// <summary>GETs back to back until the top-10 equals <paramref name="expected"/>; the time is from <paramref name="since"/> to that answer.</summary>
    private static async Task<(bool Matched, TimeSpan Elapsed, int Gets)> PollUntilAsync(HttpClient http, string user, string[] expected, TimeSpan limit, long? since = null)
    {
        var start = since ?? Stopwatch.GetTimestamp();
        for (var gets = 1; ; gets++)
        {
            var body = await http.GetFromJsonAsync($"/v1/users/{user}/recommendations?k=10", ApiJsonContext.Default.RecommendationsResponse);
            var served = body!.Items.Select(i => i.ItemId).ToArray();
            var elapsed = Stopwatch.GetElapsedTime(start);
            if (served.SequenceEqual(expected))
            {
                return (true, elapsed, gets);
            }
            if (elapsed > limit)
            {
                return (false, elapsed, gets);
            }
        }
    }

    /// <summary>What <c>eval</c> and <c>recommend</c> compute: the checkpoint's best 10 for the history, seen items excluded.</summary>
    private static string[] OfflineTop10(ModelRanker ranker, ModelCheckpoint checkpoint, Dictionary<string, int> vocabulary, string user, string[] items)
    {
        var indexes = items.Select(id => vocabulary.GetValueOrDefault(id)).ToArray();
        var times = Enumerable.Range(0, items.Length).Select(i => HistoryStart.AddMinutes(i).ToUnixTimeSeconds()).ToArray();
        var sequence = new UserSequence(user, indexes, new byte[items.Length], times, []);
        return [.. ranker.TopUnseen([sequence], 10)[0].Select(hit => checkpoint.ItemIds[hit.Item])];
    }

    private static double Percentile(List<double> values, double percentile)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }
        var sorted = values.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(percentile / 100 * sorted.Length) - 1)];
    }
}
