using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Recsys.Contracts;
using Recsys.Domain.Events;
using Recsys.Domain.Simulation;

namespace Recsys.Cli.Commands;

internal static class SimulateCommand
{
    public static Command Create()
    {
        var url = CommonOptions.ServerUrl();
        var apiKey = CommonOptions.ApiKey();
        var json = CommonOptions.Json();
        var events = new Option<int>("--events") { Description = "How many events to send.", DefaultValueFactory = _ => 100_000 };
        var rate = new Option<int>("--rate") { Description = "Events per second to aim at; 0 sends as fast as the server takes them.", DefaultValueFactory = _ => 0 };
        var batch = new Option<int>("--batch") { Description = "Events per POST /v1/events request.", DefaultValueFactory = _ => 100 };
        var concurrency = new Option<int>("--concurrency") { Description = "Requests in flight at once.", DefaultValueFactory = _ => 4 };
        var users = new Option<int>("--users") { Description = "Shoppers in the simulated shop.", DefaultValueFactory = _ => 1000 };
        var seed = new Option<int>("--seed") { Description = "Seed of the simulated shop; use serve's seed (42) to shop in the demo's catalogue.", DefaultValueFactory = _ => 42 };
        var skipCatalogue = new Option<bool>("--skip-catalogue") { Description = "Do not upsert the simulated catalogue first." };
        var command = new Command("simulate",
            "Replay a realistic synthetic shop (categories, priced items, shoppers with drifting interests, search → view → cart → purchase funnels) " +
            "against a running server at a given rate, and print the throughput.")
        {
            url, apiKey, events, rate, batch, concurrency, users, seed, skipCatalogue, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = new Settings(parse.GetValue(events), parse.GetValue(rate), parse.GetValue(batch), parse.GetValue(concurrency),
                parse.GetValue(users), parse.GetValue(seed), parse.GetValue(skipCatalogue));
            if (settings.Problem() is { } problem)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"simulate: {problem}");
                return 2;
            }
            try
            {
                using var client = new RecsysApiClient(parse.GetValue(url)!, CommonOptions.ResolveApiKey(parse.GetValue(apiKey)));
                var result = await RunAsync(client, settings, parse.InvocationConfiguration.Error, cancellationToken);
                Print(result, parse.GetValue(json), parse.InvocationConfiguration.Output);
                return result.FailedRequests == 0 ? 0 : 1;
            }
            catch (Exception ex) when (ex is ApiException or HttpRequestException or ArgumentException)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"simulate: {ex.Message}");
                return 1;
            }
        });
        return command;
    }

    private sealed record Settings(int Events, int Rate, int Batch, int Concurrency, int Users, int Seed, bool SkipCatalogue)
    {
        public string? Problem() =>
            Events < 1 ? "--events must be at least 1"
            : Rate < 0 ? "--rate must be 0 or more"
            : Batch is < 1 or > 1000 ? "--batch must be from 1 to 1000"
            : Concurrency is < 1 or > 256 ? "--concurrency must be from 1 to 256"
            : Users < 1 ? "--users must be at least 1"
            : null;
    }

    private sealed record Result(long Sent, long Accepted, long Duplicates, int Requests, int FailedRequests, double Seconds,
        double EventsPerSecond, double P50Ms, double P99Ms, double MaxMs, string? FirstError);

    private static async Task<Result> RunAsync(RecsysApiClient client, Settings settings, TextWriter log, CancellationToken cancellationToken)
    {
        var runId = Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.Next()));
        var shop = new SyntheticShop(new ShopOptions { Users = settings.Users, Seed = settings.Seed, EventIdPrefix = "sim-" + runId });
        if (!settings.SkipCatalogue)
        {
            foreach (var chunk in shop.Items.Chunk(1000))
            {
                await client.PostItemsAsync(chunk.Select(static i => new ItemRequest(i.ItemId, i.Title, i.Category, i.Price, i.InStock)).ToList(), cancellationToken);
            }
            await log.WriteLineAsync($"Catalogue: {shop.Items.Count} items upserted");
        }

        using var stream = shop.Stream(DateTimeOffset.UtcNow, TimeSpan.FromSeconds(1)).GetEnumerator();
        var streamGate = new Lock();
        var progress = new ConsoleProgress(log, "Simulating", settings.Events, "events");
        var latencies = new List<double>();
        long sent = 0, accepted = 0, duplicates = 0;
        var failed = 0;
        string? firstError = null;
        var batchNumber = -1;
        var clock = Stopwatch.StartNew();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        async Task WorkerAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                List<EventRequest> batch;
                long scheduledTicks;
                lock (streamGate)
                {
                    var take = (int)Math.Min(settings.Batch, settings.Events - Interlocked.Read(ref sent));
                    if (take <= 0)
                    {
                        return;
                    }
                    var number = ++batchNumber;
                    // Timestamps are now, in stream order, so the server sees live traffic.
                    var now = DateTimeOffset.UtcNow;
                    batch = new List<EventRequest>(take);
                    for (var i = 0; i < take && stream.MoveNext(); i++)
                    {
                        var e = stream.Current;
                        batch.Add(new EventRequest(e.EventId, e.UserId, e.ItemId, e.Type.ToWireName(), now.AddTicks(i), e.Query));
                    }
                    Interlocked.Add(ref sent, batch.Count);
                    scheduledTicks = settings.Rate > 0 ? (long)((double)number * settings.Batch / settings.Rate * Stopwatch.Frequency) : 0;
                }
                var wait = scheduledTicks - clock.ElapsedTicks;
                if (wait > 0)
                {
                    await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency), stop.Token);
                }
                var started = Stopwatch.GetTimestamp();
                try
                {
                    var response = await client.PostEventsAsync(batch, stop.Token);
                    Interlocked.Add(ref accepted, response.Accepted);
                    Interlocked.Add(ref duplicates, response.Duplicates);
                }
                catch (Exception ex) when (ex is ApiException or HttpRequestException or TaskCanceledException)
                {
                    if (stop.IsCancellationRequested)
                    {
                        return;
                    }
                    Interlocked.Increment(ref failed);
                    Interlocked.CompareExchange(ref firstError, ex.Message, null);
                    if (ex is ApiException { IsPermanent: true })
                    {
                        await stop.CancelAsync(); // every other request would fail the same way
                    }
                }
                var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                lock (latencies)
                {
                    latencies.Add(ms);
                }
                progress.Report(Interlocked.Read(ref sent));
            }
        }

        try
        {
            await Task.WhenAll(Enumerable.Range(0, settings.Concurrency).Select(_ => Task.Run(WorkerAsync, CancellationToken.None)));
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
        }
        if (firstError is not null)
        {
            await log.WriteLineAsync($"simulate: {failed} requests failed; the first: {firstError}");
        }
        var seconds = clock.Elapsed.TotalSeconds;
        progress.Report(sent, final: true);
        latencies.Sort();
        return new Result(sent, accepted, duplicates, latencies.Count, failed, Math.Round(seconds, 3), Math.Round(sent / seconds),
            Percentile(latencies, 0.50), Percentile(latencies, 0.99), latencies.Count > 0 ? Math.Round(latencies[^1], 2) : 0, firstError);
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? 0 : Math.Round(sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)], 2);

    private static void Print(Result result, bool json, TextWriter output)
    {
        if (json)
        {
            var buffer = new MemoryStream();
            using var writer = new Utf8JsonWriter(buffer);
            writer.WriteStartObject();
            writer.WriteNumber("events", result.Sent);
            writer.WriteNumber("accepted", result.Accepted);
            writer.WriteNumber("duplicates", result.Duplicates);
            writer.WriteNumber("requests", result.Requests);
            writer.WriteNumber("failedRequests", result.FailedRequests);
            writer.WriteNumber("seconds", result.Seconds);
            writer.WriteNumber("eventsPerSecond", result.EventsPerSecond);
            writer.WriteNumber("requestP50Ms", result.P50Ms);
            writer.WriteNumber("requestP99Ms", result.P99Ms);
            writer.WriteNumber("requestMaxMs", result.MaxMs);
            writer.WriteString("firstError", result.FirstError);
            writer.WriteEndObject();
            writer.Flush();
            output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
            return;
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Sent {result.Sent:N0} events in {result.Requests:N0} requests over {result.Seconds:0.00} s: {result.EventsPerSecond:N0} events/s"));
        output.WriteLine($"Accepted {result.Accepted:N0}, duplicates {result.Duplicates:N0}, failed requests {result.FailedRequests}");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Request latency: p50 {result.P50Ms:0.00} ms, p99 {result.P99Ms:0.00} ms, max {result.MaxMs:0.00} ms"));
        if (result.FirstError is not null)
        {
            output.WriteLine($"First error: {result.FirstError}");
        }
    }
}
