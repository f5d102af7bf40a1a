using Recsys.Domain.Events;

namespace Recsys.Grains;

/// <summary>
/// How accepted events reach their users' grains: direct grain calls in the embedded default, an Orleans persistent
/// stream in cluster mode.
/// </summary>
public interface IEventIngress
{
    /// <summary>
    /// Delivers each user's events, in order. Returns each user's applied flags (same order as
    /// <paramref name="byUser"/>) when the grains answered, or null when the events are durable but applied later.
    /// </summary>
    Task<IReadOnlyList<bool[]>?> SendAsync(IReadOnlyList<KeyValuePair<string, List<BehaviourEvent>>> byUser,
        CancellationToken cancellationToken);
}
