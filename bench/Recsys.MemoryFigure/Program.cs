using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Recsys.Domain.Events;
using Recsys.Domain.Recommendation;
using Recsys.Gateway.Hosting;
using Recsys.Grains;
using Recsys.Model;
using Recsys.Model.Serving;
using Recsys.Model.Training;
using Recsys.Silo;

// Managed heap per resident user grain, everything included (the grain, Orleans' activation, the user's state,
// snapshot and cached intent), in the embedded silo with a model: USERS users are made resident first (so shared
// indexes are warm), then as many again, each with EVENTS views and one recommendation (which encodes the intent);
// the heap's growth over the second group, per user.
// With "idle", the same silo then collects idle grains (idle timeout 20 s): a tenth of the measured users stay
// active (an event each every 2 s) and the rest go idle; it reports how many stay resident, when, and the heap.
//   dotnet run --project bench/Recsys.MemoryFigure -c Release -- [users=20000] [events=50] [idle]
var users = args.Length > 0 ? int.Parse(args[0]) : 20_000;
var perUser = args.Length > 1 ? int.Parse(args[1]) : 50;
var idle = args.Length > 2 && args[2] == "idle";
var idleTimeout = TimeSpan.FromSeconds(20);
const int Items = 2_000;

var folder = Directory.CreateTempSubdirectory("recsys-memory-");
try
{
    var model = Path.Combine(folder.FullName, "memory.rsm");
    var encoder = new SequenceEncoder(new SequenceModelConfig { ItemCount = Items + 1, Dim = 64, MaxLength = 50, Seed = 3 });
    var ids = new List<string>(Items + 1) { "<unknown>" };
    ids.AddRange(Enumerable.Range(0, Items).Select(static i => "i" + i));
    CheckpointFile.Save(model, new ModelCheckpoint(encoder, ids, new TrainingMetadata { Version = "memory-figure" }));

    await using var app = EmbeddedServer.Build(new ServeSettings
    {
        Urls = "http://127.0.0.1:0",
        ApiKey = "memory-figure-key-0123456789",
        ConfigurationArgs = ["--Recsys:Silo:Model:Path=" + model, "--Recsys:Silo:Grains:IdleTimeout=" + (idle ? idleTimeout : TimeSpan.FromHours(1)),
            "--Recsys:Silo:Grains:CollectionInterval=00:00:02"],
    });
    await app.StartAsync();
    var frontend = app.Services.GetRequiredService<IFrontend>();
    Console.WriteLine($"warming up: {users:N0} users x {perUser} events");
    await MakeResidentAsync(frontend, "warm", users, perUser);
    var before = Heap();
    var watch = Stopwatch.StartNew();
    Console.WriteLine($"measuring: {users:N0} more users x {perUser} events");
    await MakeResidentAsync(frontend, "user", users, perUser);
    var after = Heap();
    Console.WriteLine($"{users:N0} users made resident in {watch.Elapsed.TotalSeconds:F1} s: heap {before / 1e6:F1} -> {after / 1e6:F1} MB, " +
                      $"{(after - before) / users:N0} bytes per resident user with its cached intent");
    if (idle)
    {
        await CollectIdleAsync(frontend, app.Services.GetRequiredService<ActiveUsers>(), users, idleTimeout);
    }
    if (Environment.GetEnvironmentVariable("RECSYS_MEMORY_HOLD") == "1")
    {
        // For a heap dump of the measured state: dotnet-gcdump collect -p <pid>
        Console.WriteLine($"holding (pid {Environment.ProcessId}); press Enter to stop");
        Console.ReadLine();
    }
    await app.StopAsync();
}
finally
{
    folder.Delete(recursive: true);
}
return 0;

static async Task MakeResidentAsync(IFrontend frontend, string prefix, int users, int perUser)
{
    var start = DateTimeOffset.UtcNow.AddDays(-1);
    var random = new Random(prefix.Length);
    var batch = new List<BehaviourEvent>(100);
    for (var u = 0; u < users; u++)
    {
        for (var n = 0; n < perUser; n++)
        {
            batch.Add(new BehaviourEvent($"{prefix}-{u}-{n}", $"{prefix}-{u}", "i" + random.Next(Items), BehaviourType.View,
                start.AddSeconds(n), null));
            if (batch.Count == batch.Capacity)
            {
                await frontend.IngestAsync([.. batch], default);
                batch.Clear();
            }
        }
    }
    if (batch.Count > 0)
    {
        await frontend.IngestAsync([.. batch], default);
    }
    await Parallel.ForEachAsync(Enumerable.Range(0, users), new ParallelOptions { MaxDegreeOfParallelism = 16 },
        async (u, ct) => await frontend.RecommendAsync($"{prefix}-{u}", 10, RecommendationFilter.Default, ct));
}

// Everyone made resident so far goes idle except a tenth of the measured users, who send an event every 2 s; polls
// (with a deadline) until the silo holds about the active ones, then reports the heap. The heap before is taken
// after the first round of the active users' events, so the encoder's buffers have grown to that batch already.
static async Task CollectIdleAsync(IFrontend frontend, ActiveUsers resident, int users, TimeSpan idleTimeout)
{
    var active = users / 10;
    var tick = 0;
    await KeepActiveAsync();
    await frontend.RecommendAsync("user-0", 10, RecommendationFilter.Default, default);
    var before = resident.Count;
    var residentHeap = Heap();
    Console.WriteLine($"idle collection: {before:N0} resident, {active:N0} of them stay active, idle timeout {idleTimeout.TotalSeconds:F0} s");
    var watch = Stopwatch.StartNew();
    while (resident.Count > active * 1.05 && watch.Elapsed < idleTimeout * 4)
    {
        await Task.Delay(TimeSpan.FromSeconds(2));
        await KeepActiveAsync();
        Console.WriteLine($"  {watch.Elapsed.TotalSeconds,5:F1} s: {resident.Count,7:N0} resident");
    }
    var after = Heap();
    var collected = before - resident.Count;
    Console.WriteLine($"{collected:N0} idle users collected within {watch.Elapsed.TotalSeconds:F1} s ({resident.Count:N0} resident); " +
                      $"heap {residentHeap / 1e6:F1} -> {after / 1e6:F1} MB, {(residentHeap - after) / Math.Max(1, collected):N0} bytes " +
                      "freed per collected user (each one's encoded record stays in the in-process store)");

    async Task KeepActiveAsync()
    {
        var now = DateTimeOffset.UtcNow;
        var events = Enumerable.Range(0, active).Select(u => new BehaviourEvent($"keep-{u}-{tick}", $"user-{u}", "i" + (tick % Items),
            BehaviourType.View, now, null)).ToArray();
        foreach (var chunk in events.Chunk(100))
        {
            await frontend.IngestAsync(chunk, default);
        }
        tick++;
    }
}

static long Heap()
{
    for (var i = 0; i < 3; i++)
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
    }
    return GC.GetTotalMemory(forceFullCollection: true);
}
