using Recsys.Actors;
using Recsys.Domain.Catalogue;
using Recsys.Domain.Events;
using Recsys.Domain.Recommendation;
using Recsys.Domain.Users;
using Recsys.Silo.State;

namespace Recsys.Silo;

/// <summary>
/// One shopper's actor (a grain, in Orleans terms): a thin shell that loads the user's state on
/// activation, applies events in turn order, and persists on deactivation when anything changed.
/// </summary>
public sealed class UserActor(string userId, SiloServices services, IStateStore store) : IActor
{
    private UserState _state = null!;
    private string? _etag;
    private bool _dirty;

    // The latest snapshot, for readers that skip the turn queue; cleared by any turn that changes state, so
    // a reader sees either the state as of the last completed turn or nothing (and then takes a turn).
    private volatile UserSnapshot? _published;

    public UserSnapshot? PublishedSnapshot => _published;

    /// <summary>The cached intent embedding; re-encoded off the request path when events change the history.</summary>
    public Serving.IntentSlot Intent { get; } = new();

    public async ValueTask OnActivateAsync(CancellationToken cancellationToken)
    {
        var stored = await store.ReadAsync(userId, cancellationToken);
        _state = stored is null ? new UserState(userId, services.UserOptions) : services.Codec.Decode(stored.Data);
        _etag = stored?.ETag;
    }

    public async ValueTask OnDeactivateAsync(CancellationToken cancellationToken)
    {
        if (_dirty)
        {
            _etag = await store.WriteAsync(userId, services.Codec.Encode(_state), _etag, cancellationToken);
            _dirty = false;
        }
    }

    /// <summary>Applies events in order; a replayed event id is reported as a duplicate and changes nothing.</summary>
    public ApplyOutcome[] Apply(IReadOnlyList<BehaviourEvent> events)
    {
        var outcomes = new ApplyOutcome[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            var itemIndex = e.ItemId is null ? -1 : services.Catalogue.Items.GetOrAdd(e.ItemId);
            outcomes[i] = _state.Apply(e, itemIndex);
            if (outcomes[i] != ApplyOutcome.Applied || itemIndex < 0)
            {
                continue;
            }
            var record = new BehaviourRecord(itemIndex, e.Type, e.Timestamp.ToUnixTimeMilliseconds());
            services.CoOccurrence.Observe(_state.Window, record);
            services.Trending.Record(itemIndex, e.Type, record.TimestampMs);
        }
        if (outcomes.Contains(ApplyOutcome.Applied))
        {
            _dirty = true;
            _published = null;
            if (services.Serving.ModelFor(userId) is { } model && _state.WindowCount > 0)
            {
                Intent.Update(Snapshot(), model, services.Serving.Encoder);
            }
        }
        return outcomes;
    }

    /// <summary>
    /// Cluster mode: applies the events and commits the state before returning, so the stream message is acked only
    /// once its effects are durable. A version conflict (another owner wrote since this actor read) reloads the newer
    /// state and applies again, where the event-id dedup turns what that owner already applied into duplicates.
    /// </summary>
    public async ValueTask<ApplyOutcome[]> ApplyAndCommitAsync(IReadOnlyList<BehaviourEvent> events, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var outcomes = Apply(events);
            if (!_dirty)
            {
                return outcomes;
            }
            try
            {
                _etag = await store.WriteAsync(userId, services.Codec.Encode(_state), _etag, cancellationToken);
                _dirty = false;
                return outcomes;
            }
            catch (InconsistentStateException) when (attempt < MaxCommitAttempts)
            {
                _published = null;
                _dirty = false;
                await OnActivateAsync(cancellationToken);
            }
        }
    }

    private const int MaxCommitAttempts = 5;

    public UserSnapshot Snapshot() => _published = _state.Snapshot();
}
