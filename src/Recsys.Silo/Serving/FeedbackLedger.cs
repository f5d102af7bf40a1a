using System.Collections.Concurrent;
using Recsys.Contracts;
using Recsys.Domain.Events;
using Recsys.Domain.Recommendation;

namespace Recsys.Silo.Serving;

/// <summary>
/// Counts, per model version, the recommendation lists served and the accepted events that came from one of
/// them (their recommendationId names the version). Versions are bounded: ids naming versions this process never
/// served are counted under <see cref="OtherVersions"/> once <see cref="MaxVersions"/> are tracked, so forged
/// ids cannot grow memory.
/// </summary>
public sealed class FeedbackLedger
{
    public const string OtherVersions = "other";
    public const int MaxVersions = 64;

    private readonly ConcurrentDictionary<string, Counters> _byVersion = new(StringComparer.Ordinal);

    public void RecordServed(string modelVersion) => Interlocked.Increment(ref For(modelVersion).Served);

    /// <summary>Counts an accepted event that carries a recommendation id (replays must not be passed in).</summary>
    public void RecordFeedback(BehaviourEvent accepted)
    {
        if (accepted.RecommendationId is null || !RecommendationId.TryGetModelVersion(accepted.RecommendationId, out var version))
        {
            return;
        }
        var counters = For(version);
        switch (accepted.Type)
        {
            case BehaviourType.View: Interlocked.Increment(ref counters.Views); break;
            case BehaviourType.Click: Interlocked.Increment(ref counters.Clicks); break;
            case BehaviourType.Cart: Interlocked.Increment(ref counters.Carts); break;
            case BehaviourType.Purchase: Interlocked.Increment(ref counters.Purchases); break;
        }
    }

    public IReadOnlyList<ModelFeedback> Snapshot() =>
        [.. _byVersion.OrderBy(static p => p.Key, StringComparer.Ordinal).Select(static p => p.Value.ToContract(p.Key))];

    private Counters For(string version)
    {
        if (_byVersion.TryGetValue(version, out var counters))
        {
            return counters;
        }
        return _byVersion.Count < MaxVersions
            ? _byVersion.GetOrAdd(version, static _ => new Counters())
            : _byVersion.GetOrAdd(OtherVersions, static _ => new Counters());
    }

    private sealed class Counters
    {
        public long Served;
        public long Views;
        public long Clicks;
        public long Carts;
        public long Purchases;

        public ModelFeedback ToContract(string version)
        {
            var served = Interlocked.Read(ref Served);
            var clicks = Interlocked.Read(ref Clicks);
            var purchases = Interlocked.Read(ref Purchases);
            return new ModelFeedback(version, served, Interlocked.Read(ref Views), clicks, Interlocked.Read(ref Carts), purchases,
                served > 0 ? Math.Round((double)clicks / served, 6) : 0, served > 0 ? Math.Round((double)purchases / served, 6) : 0);
        }
    }
}
