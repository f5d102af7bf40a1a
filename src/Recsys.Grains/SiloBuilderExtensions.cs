using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Recsys.Grains;

public static class SiloBuilderExtensions
{
    /// <summary>
    /// The grains' silo-wide services and role placement: this silo announces <paramref name="roles"/> in its metadata,
    /// and every grain type is placed on the silos of its role. The host registers <see cref="Silo.SiloServices"/>.
    /// </summary>
    public static ISiloBuilder AddRecsysGrains(this ISiloBuilder silo, IReadOnlyCollection<string> roles)
    {
        var unknown = roles.Except(SiloRoles.All).ToArray();
        if (roles.Count == 0 || unknown.Length > 0)
        {
            throw new ArgumentException($"silo roles must be some of {string.Join(", ", SiloRoles.All)}; got '{string.Join(",", roles)}'", nameof(roles));
        }
        silo.UseSiloMetadata(new Dictionary<string, string> { [SiloRoles.MetadataKey] = SiloRoles.Format(roles) });
        // Transient: Orleans initialises the resolved strategy from each grain type's properties and keeps it per type; a
        // singleton would be one instance that the last grain type resolved (its role) overwrote for every other type.
        silo.Services.AddPlacementFilter<SiloRolePlacementFilterStrategy, SiloRolePlacementFilterDirector>(ServiceLifetime.Transient);
        silo.Services.AddSingleton<ActiveUsers>();
        silo.Services.AddSingleton<GrainReferences>();
        silo.Services.AddSingleton<InferenceGrainEncoder>();
        silo.Services.AddSingleton<ShardGrainSearch>();
        silo.Services.AddSingleton<UserReads>();
        silo.Services.TryAddSingleton(UserCommitPolicy.Durable);
        return silo;
    }

    /// <summary>Idle grains leave memory after <see cref="Silo.IdleGrainOptions.IdleTimeout"/> (Orleans' collection age).</summary>
    public static ISiloBuilder CollectIdleGrains(this ISiloBuilder silo, Silo.IdleGrainOptions options)
    {
        options.Validate();
        silo.Configure<Orleans.Configuration.GrainCollectionOptions>(collection =>
        {
            collection.CollectionAge = options.IdleTimeout;
            collection.CollectionQuantum = options.CollectionInterval < options.IdleTimeout ? options.CollectionInterval : options.IdleTimeout / 2;
        });
        return silo;
    }

    /// <summary>User records go to the <see cref="Silo.State.IStateStore"/> the host registers (see <see cref="StateStoreGrainStorage"/>).</summary>
    public static ISiloBuilder AddUserStateStorage(this ISiloBuilder silo)
    {
        silo.Services.AddKeyedSingleton<Orleans.Storage.IGrainStorage>(UserGrain.StorageName,
            static (services, _) => new StateStoreGrainStorage(services.GetRequiredService<Silo.State.IStateStore>()));
        return silo;
    }
}
