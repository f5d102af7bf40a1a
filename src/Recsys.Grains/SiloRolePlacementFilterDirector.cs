using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace Recsys.Grains;

/// <summary>Filters placement candidates to the silos of a grain type's role, or of its fallback role when none has it.</summary>
internal sealed class SiloRolePlacementFilterDirector(ISiloMetadataCache metadata) : IPlacementFilterDirector
{
    public IEnumerable<SiloAddress> Filter(PlacementFilterStrategy filterStrategy, PlacementTarget target, IEnumerable<SiloAddress> silos)
    {
        if (filterStrategy is not SiloRolePlacementFilterStrategy strategy)
        {
            return silos;
        }
        var candidates = silos as IReadOnlyCollection<SiloAddress> ?? [.. silos];
        var matching = candidates.Where(silo => HasRole(silo, strategy.Role)).ToArray();
        if (matching.Length > 0 || strategy.FallbackRole is not { } fallback)
        {
            return matching;
        }
        return candidates.Where(silo => HasRole(silo, fallback)).ToArray();
    }

    private bool HasRole(SiloAddress silo, string role) =>
        SiloRoles.Includes(metadata.GetSiloMetadata(silo).Metadata.GetValueOrDefault(SiloRoles.MetadataKey), role);
}
