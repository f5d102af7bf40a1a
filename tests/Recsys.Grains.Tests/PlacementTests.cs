using Recsys.Domain.Events;
using Recsys.Domain.Recommendation;

namespace Recsys.Grains.Tests;

public class PlacementTests
{
    private static readonly string[] Gateway = [SiloRoles.Gateway];
    private static readonly string[] Worker = [SiloRoles.Worker];
    private static readonly string[] Inference = [SiloRoles.Inference];

    [Fact]
    public async Task User_and_shard_grains_live_on_workers_and_inference_grains_on_the_inference_silo()
    {
        await using var cluster = await RoleCluster.StartAsync(Gateway, Worker, Worker, Inference);
        var grains = cluster.GrainsOf(0); // the gateway silo calls, as its HTTP API does
        var users = Enumerable.Range(0, 40).Select(u => $"placement-{u}").ToArray();
        await Task.WhenAll(users.Select(user => ViewAsync(grains, user, 3, 4, 5)));
        var lists = await Task.WhenAll(users.Select(user => grains.GetGrain<IUserGrain>(user)
            .RecommendAsync(new RecommendQuery(5, RecommendationFilter.Default))));

        // Neural lists, so intents were encoded (inference grains) and the catalogue scored (shard grains).
        Assert.All(lists, list => Assert.Equal(RoleCluster.ModelVersion, list.ModelVersion));
        // Users first seen after inference grains were placed still go to the workers (each grain type keeps its role).
        var later = Enumerable.Range(0, 20).Select(u => $"placement-later-{u}").ToArray();
        await Task.WhenAll(later.Select(user => ViewAsync(grains, user, 6, 7)));
        var activations = await cluster.ActivationsAsync();
        Assert.Equal(users.Length + later.Length, activations[nameof(UserGrain)].Count());
        Assert.All(activations[nameof(UserGrain)], silo => Assert.Contains(silo, new[] { 1, 2 }));
        // Where the work ran: the shards on the workers, every encode on the inference silo.
        var shardQueries = cluster.ShardQueriesBySilo();
        Assert.True(shardQueries[1] + shardQueries[2] >= users.Length, $"shard queries by silo: {string.Join(", ", shardQueries)}");
        Assert.Equal(0, shardQueries[0] + shardQueries[3]);
        var encodes = cluster.EncodesBySilo();
        Assert.True(encodes[3] >= users.Length, $"encodes by silo: {string.Join(", ", encodes)}");
        Assert.Equal(0, encodes[0] + encodes[1] + encodes[2]);
    }

    [Fact]
    public async Task Without_an_inference_silo_the_workers_encode()
    {
        await using var cluster = await RoleCluster.StartAsync(Gateway, Worker);
        var grains = cluster.GrainsOf(0);
        await ViewAsync(grains, "no-inference", 7, 8);
        var list = await grains.GetGrain<IUserGrain>("no-inference").RecommendAsync(new RecommendQuery(3, RecommendationFilter.Default));

        Assert.Equal(RoleCluster.ModelVersion, list.ModelVersion);
        Assert.Equal("item-9", list.Items[0].ItemId); // the cyclic model's next item after 7, 8
        var encodes = cluster.EncodesBySilo();
        Assert.True(encodes[1] >= 1, $"encodes by silo: {string.Join(", ", encodes)}");
        Assert.Equal(0, encodes[0]);
        var activations = await cluster.ActivationsAsync();
        Assert.Equal([1], activations[nameof(UserGrain)]);
    }

    internal static Task<IngestReceipt> ViewAsync(IGrainFactory grains, string user, params int[] items)
    {
        var start = DateTimeOffset.UtcNow.AddMinutes(-10);
        var events = items.Select((item, i) =>
            new BehaviourEvent($"{user}-e{i}", user, $"item-{item}", BehaviourType.View, start.AddSeconds(i), null)).ToArray();
        return grains.GetGrain<IUserGrain>(user).IngestAsync(new EventBatch(events));
    }
}
