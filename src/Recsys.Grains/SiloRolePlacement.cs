using Orleans.Metadata;
using Orleans.Placement;

namespace Recsys.Grains;

/// <summary>
/// Places a grain type only on silos whose roles include <see cref="Role"/>; when no live silo has it, on silos with
/// <see cref="FallbackRole"/> (if set). Travels in the grain type's properties, so every silo decides alike.
/// </summary>
public sealed class SiloRolePlacementFilterStrategy : PlacementFilterStrategy
{
    private const string RoleProperty = "role";
    private const string FallbackProperty = "fallback-role";

    // Resolved by the runtime from the grain properties through this constructor.
    public SiloRolePlacementFilterStrategy() : this(SiloRoles.Worker, null)
    {
    }

    public SiloRolePlacementFilterStrategy(string role, string? fallbackRole) : base(order: 0)
    {
        Role = role;
        FallbackRole = fallbackRole;
    }

    public string Role { get; private set; }

    public string? FallbackRole { get; private set; }

    public override void AdditionalInitialize(GrainProperties properties)
    {
        Role = GetPlacementFilterGrainProperty(RoleProperty, properties) ?? SiloRoles.Worker;
        var fallback = GetPlacementFilterGrainProperty(FallbackProperty, properties);
        FallbackRole = string.IsNullOrEmpty(fallback) ? null : fallback;
    }

    protected override IEnumerable<KeyValuePair<string, string>> GetAdditionalGrainProperties(IServiceProvider services, Type grainClass,
        GrainType grainType, IReadOnlyDictionary<string, string> existingProperties)
    {
        yield return new KeyValuePair<string, string>(RoleProperty, Role);
        yield return new KeyValuePair<string, string>(FallbackProperty, FallbackRole ?? "");
    }
}

/// <summary>Keeps a grain type on the silos of one role (see <see cref="SiloRolePlacementFilterStrategy"/>).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class PlaceOnRoleAttribute(string role, string? fallbackRole = null)
    : PlacementFilterAttribute(new SiloRolePlacementFilterStrategy(role, fallbackRole))
{
    public string Role => role;

    public string? FallbackRole => fallbackRole;
}
