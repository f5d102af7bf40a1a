using System.Diagnostics;
using Recsys.Tests.Shared;

// Hostile and malformed traffic against a running server (bench/fuzz/run.sh starts one): requests by endpoint and
// status, every 5xx, and each tracked user's state against the replay of their accepted events. Exit 1 on any finding.
var options = args.Chunk(2).Where(static pair => pair.Length == 2).ToDictionary(static pair => pair[0].TrimStart('-'), static pair => pair[1]);
if (args.Contains("--help") || !options.TryGetValue("url", out var url))
{
    Console.WriteLine("""
        recsys-fuzz --url URL [--requests 10000] [--seed 1] [--model-files a.rsm,b.rsm]
          Keys from the environment: RECSYS_API_KEY (every scope), RECSYS_READ_KEY and RECSYS_WRITE_KEY (optional).
          --model-files: names in the server's model folder that loads must refuse (a FIFO, a link out of the folder).
        """);
    return 2;
}
var main = Environment.GetEnvironmentVariable("RECSYS_API_KEY") ?? throw new InvalidOperationException("set RECSYS_API_KEY");
var keys = new FuzzKeys(main, Environment.GetEnvironmentVariable("RECSYS_READ_KEY"), Environment.GetEnvironmentVariable("RECSYS_WRITE_KEY"));
var requests = int.Parse(options.GetValueOrDefault("requests", "10000"), System.Globalization.CultureInfo.InvariantCulture);
var seed = int.Parse(options.GetValueOrDefault("seed", "1"), System.Globalization.CultureInfo.InvariantCulture);
var modelFiles = options.GetValueOrDefault("model-files", "").Split(',', StringSplitOptions.RemoveEmptyEntries);

using var client = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(60) };
var traffic = new HostileTraffic(seed, keys, modelFiles);
var run = new FuzzRun(client, traffic);
var clock = Stopwatch.StartNew();
using var progress = new Timer(_ => Console.Error.WriteLine($"  {run.Sent:N0} of {requests:N0} requests sent"), null, 5000, 5000);
await run.SendAsync(requests, CancellationToken.None);
progress.Change(Timeout.Infinite, Timeout.Infinite);
Console.WriteLine($"seed {seed}: {run.Sent:N0} requests in {clock.Elapsed.TotalSeconds:0.0} s, by endpoint and status:");
Console.Write(run.Table());

using var health = await client.GetAsync("/healthz");
using var ready = await client.GetAsync("/readyz");
var differences = await run.CompareTrackedUsersAsync(CancellationToken.None);
Console.WriteLine($"answers >= 500: {run.ServerErrors.Count}; healthz {(int)health.StatusCode}, readyz {(int)ready.StatusCode}; " +
                  $"tracked users {traffic.TrackedUsers.Count}, state differing from the replay: {differences.Count}");
foreach (var line in run.ServerErrors.Concat(differences).Take(20))
{
    Console.WriteLine("  " + line[..Math.Min(400, line.Length)]);
}
return run.ServerErrors.Count == 0 && differences.Count == 0 && health.IsSuccessStatusCode && ready.IsSuccessStatusCode ? 0 : 1;
