namespace Recsys.Grains;

/// <summary>
/// Names of the cluster's event stream: one Orleans stream per user (its key is the user id) in one namespace, which
/// user grains consume through an implicit subscription.
/// </summary>
public static class EventStreams
{
    /// <summary>The persistent stream provider's name.</summary>
    public const string ProviderName = "events";

    /// <summary>The namespace of the per-user streams.</summary>
    public const string Namespace = "recsys-events";
}
