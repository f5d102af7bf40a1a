namespace Recsys.Grains;

/// <summary>
/// What a silo is for, carried in its Orleans silo metadata under <see cref="MetadataKey"/> (comma-separated), so that
/// placement keeps each grain type on the silos of its role.
/// </summary>
public static class SiloRoles
{
    public const string MetadataKey = "recsys.roles";

    /// <summary>Serves the HTTP API; hosts no user or shard grains.</summary>
    public const string Gateway = "gateway";

    /// <summary>Hosts user grains and catalogue shard grains (and inference grains when no silo has <see cref="Inference"/>).</summary>
    public const string Worker = "worker";

    /// <summary>Hosts the inference grains (the chart's GPU silos).</summary>
    public const string Inference = "inference";

    public static readonly string[] All = [Gateway, Worker, Inference];

    /// <summary>The metadata value for a set of roles.</summary>
    public static string Format(IEnumerable<string> roles) => string.Join(',', roles);

    public static bool Includes(string? metadataValue, string role) =>
        metadataValue is not null && metadataValue.Split(',', StringSplitOptions.TrimEntries).Contains(role, StringComparer.Ordinal);

    /// <summary>
    /// Roles from configuration: a comma-separated list of <see cref="All"/>, or "all". Throws naming what is wrong.
    /// </summary>
    public static IReadOnlyCollection<string> Parse(string value)
    {
        var roles = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(static r => r.ToLowerInvariant()).ToArray();
        if (roles is ["all"])
        {
            return All;
        }
        var unknown = roles.Except(All).ToArray();
        if (roles.Length == 0 || unknown.Length > 0)
        {
            throw new ArgumentException(
                $"silo roles must be 'all' or a comma-separated list of {string.Join(", ", All)}; got '{value}'");
        }
        return roles.Distinct().ToArray();
    }
}
