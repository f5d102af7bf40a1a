using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Xunit.Abstractions;

namespace Recsys.Cluster.FunctionalTests;

/// <summary>
/// Cluster mode with Azure's providers selected, against Azurite: user state in Orleans' Azure Table or Blob grain
/// storage, events on Orleans' Azure Queue streams. Azurite spends milliseconds of CPU per write, so these run at a
/// smaller scale than the PostgreSQL and RabbitMQ tests; they prove the same guarantees, not speed.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class AzureStorageClusterTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Queues = 4;

    private readonly string _stateName = "recsystest" + Guid.NewGuid().ToString("N")[..8];
    private ClusterRun _run = null!;

    public async Task InitializeAsync() => _run = await ClusterRun.CreateAsync();

    public async Task DisposeAsync()
    {
        await _run.DisposeAsync();
        var azure = ClusterServices.AzureStorage;
        await new TableClient(azure, _stateName).DeleteAsync();
        await new BlobContainerClient(azure, _stateName).DeleteIfExistsAsync();
        for (var i = 0; i < Queues; i++)
        {
            await new QueueClient(azure, $"{_run.Stream.Replace('.', '-')}-{i:D3}").DeleteIfExistsAsync();
        }
    }

    private Task<SiloProcess> StartAsync(string role, string name, string storage, string streams) =>
        _run.StartAsync(role, name, "Recsys:Cluster:Storage=" + storage, "Recsys:Cluster:Streams=" + streams,
            "Recsys:Cluster:AzureStorage=" + ClusterServices.AzureStorage, "Recsys:Cluster:AzureStateName=" + _stateName,
            "Recsys:Cluster:Queues=" + Queues, "Recsys:Cluster:AzureQueueVisibilityTimeout=00:00:10");

    [Fact]
    public async Task On_azure_tables_and_queues_killing_a_worker_midway_loses_no_acknowledged_event_and_applies_each_exactly_once()
    {
        var gateway = await StartAsync("gateway", "gateway", StorageKinds.AzureTable, StreamKinds.AzureQueue);
        var workers = new[]
        {
            await StartAsync("worker", "w1", StorageKinds.AzureTable, StreamKinds.AzureQueue),
            await StartAsync("worker", "w2", StorageKinds.AzureTable, StreamKinds.AzureQueue),
        };
        await Poll.UntilAsync(async () => (await ClusterModeTests.OwnedAsync(workers[1])).Length > 0, TimeSpan.FromSeconds(30),
            "w2 to pull its share of the queues");
        var workload = new EventWorkload("az", users: 40, eventsPerUser: 6);
        using var stop = new CancellationTokenSource();
        var reads = new ReadProbe(gateway.Client, workload);
        var probing = reads.RunAsync(stop.Token);

        var posting = workload.PostAllAsync(gateway.Client, senders: 4, batchSize: 20, TimeSpan.Zero, CancellationToken.None);
        await Poll.UntilAsync(() => workload.Acknowledged >= workload.TotalEvents / 2 || posting.IsCompleted, TimeSpan.FromMinutes(3),
            "half the events posted");
        var killedAt = workload.Acknowledged;
        var clock = Stopwatch.StartNew();
        workers[1].Kill();
        await posting;
        await workload.AssertEveryUserAppliedExactlyOnceAsync(new AzureTableCommittedStates(ClusterServices.AzureStorage, _stateName),
            TimeSpan.FromMinutes(3));
        output.WriteLine($"killed w2 after {killedAt} of {workload.TotalEvents} events; all applied {clock.Elapsed.TotalSeconds:0.0} s after the kill");
        await stop.CancelAsync();
        await probing;

        output.WriteLine($"POST answers: {ClusterModeTests.Describe(workload.Statuses)}; reads: {reads.Succeeded} answered, {reads.Failed} failed, longest gap {reads.LongestGap.TotalMilliseconds:0} ms");
        Assert.True(reads.ErrorRate < 0.01, $"{reads.Failed} of {reads.Succeeded + reads.Failed} reads failed");
        await Poll.UntilAsync(async () => (await ClusterModeTests.OwnedAsync(workers[0])).Length == Queues, TimeSpan.FromSeconds(30),
            "the surviving worker to pull every queue");
    }

    [Fact]
    public async Task On_azure_blobs_a_replacement_worker_serves_every_user_from_the_state_the_first_one_committed()
    {
        var gateway = await StartAsync("gateway", "gateway", StorageKinds.AzureBlob, StreamKinds.RabbitMq);
        var first = await StartAsync("worker", "w1", StorageKinds.AzureBlob, StreamKinds.RabbitMq);
        var workload = new EventWorkload("blob", users: 30, eventsPerUser: 5);
        await workload.PostAllAsync(gateway.Client, senders: 2, batchSize: 25, TimeSpan.Zero, CancellationToken.None);
        await workload.AssertEveryUserAppliedExactlyOnceAsync(new AzureBlobCommittedStates(ClusterServices.AzureStorage, _stateName),
            TimeSpan.FromMinutes(2));

        first.Kill();
        await StartAsync("worker", "w2", StorageKinds.AzureBlob, StreamKinds.RabbitMq);
        // Until membership declares w1 dead, a read of a user it held waits out a response timeout and may answer 503.
        await Poll.UntilAsync(async () => (await gateway.Client.GetAsync($"/v1/users/{workload.UserId(0)}")).IsSuccessStatusCode,
            TimeSpan.FromSeconds(60), "reads to be answered after w1 died");
        for (var user = 0; user < workload.Users; user++)
        {
            var profile = await gateway.Client.GetFromJsonAsync<JsonObject>($"/v1/users/{workload.UserId(user)}");
            Assert.Equal(workload.TotalEvents / workload.Users, (int)profile!["eventCount"]!);
        }
    }
}
