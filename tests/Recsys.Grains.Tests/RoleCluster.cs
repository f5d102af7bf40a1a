using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.TestingHost;
using Recsys.Domain.Catalogue;
using Recsys.Model.Serving;
using Recsys.Silo;
using Recsys.Silo.State;
using Recsys.Tests.Shared;

namespace Recsys.Grains.Tests;

/// <summary>
/// An in-process Orleans cluster whose silos have the given roles (the first is the primary silo), each with its own
/// catalogue, rankings and model serving over one small trained model, as separate processes would have.
/// </summary>
public sealed class RoleCluster : IAsyncDisposable
{
    public const int Items = 30;
    public const string ModelVersion = "cyclic-grains-v1";

    private static readonly Lazy<ServingModel> SharedModel = new(() => new ServingModel(CyclicModel.Train(Items, users: 300, ModelVersion)));

    private RoleCluster(InProcessTestCluster cluster) => Cluster = cluster;

    public InProcessTestCluster Cluster { get; }

    public static async Task<RoleCluster> StartAsync(params string[][] roles)
    {
        var model = SharedModel.Value;
        var store = new InMemoryStateStore(); // one store for the cluster, as one database would be
        var builder = new InProcessTestClusterBuilder((short)roles.Length);
        builder.ConfigureSilo((options, silo) =>
        {
            silo.AddRecsysGrains(roles[SiloIndex(options.SiloName)]);
            silo.Services.AddSingleton<IStateStore>(store);
            silo.AddUserStateStorage();
            silo.Services.AddSingleton(_ =>
            {
                // A generous intent budget: a first encode across silos (cold code) must not make a test see the fallback.
                var services = SiloServices.Create(new SiloOptions { Model = new() { IntentBudget = TimeSpan.FromSeconds(10) } }, TimeProvider.System);
                for (var i = 0; i < Items; i++)
                {
                    services.Catalogue.Upsert(new CatalogueItem($"item-{i}", $"Item {i}", "things", 10, InStock: true));
                }
                services.Serving.Activate(model);
                return services;
            });
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new RoleCluster(cluster);
    }

    /// <summary>The grain factory of the silo at <paramref name="index"/>: calls made from there, as a gateway silo makes them.</summary>
    public IGrainFactory GrainsOf(int index) => Cluster.Silos[index].ServiceProvider.GetRequiredService<IGrainFactory>();

    public int IndexOf(SiloAddress silo) => Cluster.Silos.ToList().FindIndex(s => s.SiloAddress.Equals(silo));

    /// <summary>Activations of each grain class, by the index of the silo that holds them.</summary>
    public async Task<ILookup<string, int>> ActivationsAsync()
    {
        var statistics = await GrainsOf(0).GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics();
        return statistics.ToLookup(static s => s.GrainType.Split(',')[0].Split('.')[^1], s => IndexOf(s.SiloAddress));
    }

    /// <summary>Encodes each silo's inference workers ran, by silo index.</summary>
    public long[] EncodesBySilo() => [.. Cluster.Silos.Select(static s => Services(s).Serving.Encoder.Batcher.RequestsServed)];

    /// <summary>Shard queries each silo's catalogue shards scored, by silo index.</summary>
    public long[] ShardQueriesBySilo() => [.. Cluster.Silos.Select(static s => Services(s).Serving.Shards.Shards.Sum(static shard => shard.Batcher.RequestsServed))];

    private static SiloServices Services(InProcessSiloHandle silo) => silo.ServiceProvider.GetRequiredService<SiloServices>();

    public async ValueTask DisposeAsync() => await Cluster.DisposeAsync();

    // The test host names its silos "Primary", then "Secondary_1", "Secondary_2", ...
    private static int SiloIndex(string name) => name == "Primary" ? 0 : int.Parse(name[(name.LastIndexOf('_') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
}
