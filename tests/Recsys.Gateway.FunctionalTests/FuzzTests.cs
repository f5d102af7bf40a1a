using System.Diagnostics;
using System.Net;
using Xunit.Abstractions;

namespace Recsys.Gateway.FunctionalTests;

/// <summary>
/// Seeded hostile traffic against a server with a model loaded: no answer is a 5xx, the server stays healthy, and every
/// tracked user's state is the replay of exactly their accepted events. bench/fuzz runs the same traffic at 10,000+.
/// </summary>
public sealed class FuzzTests(NeuralServingFixture fixture, ITestOutputHelper output) : IClassFixture<NeuralServingFixture>
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Hostile_and_mutated_requests_never_earn_a_5xx_and_accepted_events_apply_exactly_once(int seed)
    {
        // Files in the model folder that loads must refuse: a FIFO, a link to a system file, a truncated checkpoint.
        var fifo = Path.Combine(fixture.Folder, $"fuzz-pipe-{seed}.rsm");
        if (OperatingSystem.IsLinux() && !File.Exists(fifo))
        {
            using var mkfifo = Process.Start("mkfifo", fifo);
            await mkfifo.WaitForExitAsync();
        }
        var link = Path.Combine(fixture.Folder, $"fuzz-passwd-{seed}.rsm");
        if (!File.Exists(link))
        {
            File.CreateSymbolicLink(link, "/etc/passwd");
        }
        await using var server = await fixture.StartServerAsync();
        var traffic = new HostileTraffic(seed, new FuzzKeys(RecsysServer.ApiKey, RecsysServer.ReadKey, RecsysServer.WriteKey),
            [Path.GetFileName(fifo), Path.GetFileName(link), Path.GetFileName(fixture.TruncatedPath), Path.GetFileName(fixture.NextCheckpointPath)]);
        var run = new FuzzRun(server.Anonymous, traffic);

        await run.SendAsync(2500, CancellationToken.None);
        output.WriteLine($"seed {seed}: {run.Sent} requests by endpoint and status\n{run.Table()}");

        Assert.True(run.ServerErrors.Count == 0, string.Join("\n", run.ServerErrors));
        using (var health = await server.Anonymous.GetAsync("/healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }
        using (var ready = await server.Anonymous.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }
        Assert.True(traffic.TrackedUsers.Count >= 12);
        var differences = await run.CompareTrackedUsersAsync(CancellationToken.None);
        Assert.True(differences.Count == 0, string.Join("\n", differences));
    }
}
