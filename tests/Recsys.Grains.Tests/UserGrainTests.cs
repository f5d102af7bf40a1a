using Recsys.Domain.Events;

namespace Recsys.Grains.Tests;

public class UserGrainTests
{
    [Fact]
    public async Task Replays_change_nothing_and_the_state_survives_deactivation()
    {
        await using var cluster = await RoleCluster.StartAsync([SiloRoles.Gateway], [SiloRoles.Worker, SiloRoles.Inference]);
        var grains = cluster.GrainsOf(0);
        var first = await PlacementTests.ViewAsync(grains, "replayer", 1, 2, 3);
        Assert.Equal([true, true, true], first.Applied);
        var replay = await PlacementTests.ViewAsync(grains, "replayer", 1, 2, 3);
        Assert.Equal([false, false, false], replay.Applied);

        var user = grains.GetGrain<IUserGrain>("replayer");
        await cluster.Cluster.DeactivateAsync(user);
        await cluster.Cluster.WaitForDeactivationAsync(user);
        var view = await user.GetViewAsync(10);
        Assert.Equal(3, view.EventCount);
        Assert.Equal(["item-3", "item-2", "item-1"], view.Recent.Select(static r => r.ItemId));
        // The dedup set came back with the state: a replay after reactivation is still a replay.
        var again = await PlacementTests.ViewAsync(grains, "replayer", 1, 2, 3);
        Assert.Equal([false, false, false], again.Applied);
        Assert.Equal(3, (await user.GetViewAsync(10)).EventCount);
    }

    [Fact]
    public async Task Events_arrive_as_sent_across_silos()
    {
        await using var cluster = await RoleCluster.StartAsync([SiloRoles.Gateway], [SiloRoles.Worker]);
        var at = DateTimeOffset.UtcNow.AddMinutes(-1);
        var search = new BehaviourEvent("s1", "searcher", null, BehaviourType.Search, at, "board games") { RecommendationId = "abc.fallback-v1" };
        var receipt = await cluster.GrainsOf(0).GetGrain<IUserGrain>("searcher").IngestAsync(new EventBatch([search]));
        Assert.Equal([true], receipt.Applied);
        var view = await cluster.GrainsOf(0).GetGrain<IUserGrain>("searcher").GetViewAsync(5);
        Assert.Equal(["board games"], view.Queries);
        Assert.Equal(at.ToUnixTimeMilliseconds(), view.LastEventAt!.Value.ToUnixTimeMilliseconds());
    }
}
