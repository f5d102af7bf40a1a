using Orleans.Runtime;
using Orleans.Streams;
using Orleans.Streams.Core;
using Recsys.Domain.Events;
using Recsys.Domain.Recommendation;
using Recsys.Domain.Users;
using Recsys.Silo;
using Recsys.Silo.Serving;

namespace Recsys.Grains;

/// <summary>
/// One shopper, thin over the domain's <see cref="UserState"/>: ingestion applies events in order and commits before it
/// answers; reads interleave and see <see cref="_committed"/>, the snapshot as of the last commit, so they never wait for
/// a write and never see an event that is not durable yet. New events mark the intent stale; re-encoding runs off the
/// request path through the inference grains, coalesced by the intent slot.
/// </summary>
[PlaceOnRole(SiloRoles.Worker)]
[ImplicitStreamSubscription(EventStreams.Namespace)]
public sealed class UserGrain(
    [PersistentState("user", UserGrain.StorageName)] IPersistentState<UserRecord> record,
    SiloServices services,
    InferenceGrainEncoder encoder,
    ShardGrainSearch search,
    ActiveUsers active) : Grain, IUserGrain, IStreamSubscriptionObserver
{
    /// <summary>The grain storage provider user state goes to.</summary>
    public const string StorageName = "users";

    public const string FallbackModelVersion = "fallback-v1";

    private readonly IntentSlot _intent = new();
    private UserState _state = null!;
    private UserSnapshot _committed = null!;

    private string UserId => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _state = record.RecordExists && record.State.Data.Length > 0
            ? services.Codec.Decode(record.State.Data)
            : new UserState(UserId, services.UserOptions);
        _committed = _state.Snapshot();
        active.Activated();
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        active.Deactivated();
        return Task.CompletedTask; // every ingestion already committed its state
    }

    /// <summary>
    /// Cluster mode: the user's event stream reaches this grain through the implicit subscription. A batch is applied
    /// and committed before the delivery completes, and only then is its message acknowledged to the broker; a
    /// redelivery is recognised by the event ids committed with the state.
    /// </summary>
    public async Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) =>
        await handleFactory.Create<EventBatch>().ResumeAsync((batch, _) => IngestAsync(batch));

    public async Task<IngestReceipt> IngestAsync(EventBatch batch)
    {
        var events = batch.Events;
        var applied = new bool[events.Count];
        var any = false;
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            var itemIndex = e.ItemId is null ? -1 : services.Catalogue.Items.GetOrAdd(e.ItemId);
            applied[i] = _state.Apply(e, itemIndex) == ApplyOutcome.Applied;
            any |= applied[i];
            if (applied[i] && itemIndex >= 0)
            {
                var behaviour = new BehaviourRecord(itemIndex, e.Type, e.Timestamp.ToUnixTimeMilliseconds());
                services.CoOccurrence.Observe(_state.Window, behaviour);
                services.Trending.Record(itemIndex, e.Type, behaviour.TimestampMs);
            }
        }
        if (!any)
        {
            return new IngestReceipt(applied);
        }
        record.State = new UserRecord { Data = services.Codec.Encode(_state) };
        try
        {
            await record.WriteStateAsync();
        }
        catch
        {
            // The state in memory is ahead of storage: start over from what storage holds.
            DeactivateOnIdle();
            throw;
        }
        _committed = _state.Snapshot();
        if (services.Serving.ModelFor(UserId) is { } model)
        {
            _intent.Update(_committed, model, encoder);
        }
        return new IngestReceipt(applied);
    }

    public async Task<RecommendationList> RecommendAsync(RecommendQuery query)
    {
        var user = _committed;
        ForgetIfUnknown();
        if (!user.IsCold && services.Serving.ModelFor(UserId) is not null &&
            await services.Serving.RecommendAsync(user, _intent, query.Count, query.Filter, encoder, search, CancellationToken.None) is { } neural)
        {
            return new RecommendationList(neural.Model.Version, Entries(neural.Items));
        }
        return new RecommendationList(FallbackModelVersion, Entries(services.Recommender.Recommend(user, query.Count, query.Filter)));
    }

    public Task<UserView> GetViewAsync(int recentLimit)
    {
        var user = _committed;
        ForgetIfUnknown();
        var items = services.Catalogue.Items;
        var recent = new List<BehaviourView>(Math.Min(recentLimit, user.Recent.Count));
        for (var i = user.Recent.Count - 1; i >= 0 && recent.Count < recentLimit; i--)
        {
            var behaviour = user.Recent[i];
            recent.Add(new BehaviourView(items.GetId(behaviour.ItemIndex), behaviour.Type.ToWireName(),
                DateTimeOffset.FromUnixTimeMilliseconds(behaviour.TimestampMs)));
        }
        var intent = _intent.Current;
        return Task.FromResult(new UserView(
            user.EventCount,
            user.EventCount > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(user.LastEventMs) : null,
            recent,
            user.Purchased.Select(items.GetId).ToArray(),
            user.Queries,
            intent?.ModelVersion,
            intent?.PurchaseIntent is { } p ? Math.Round(p, 4) : null));
    }

    /// <summary>A read for a user never seen leaves no activation behind, so scans of unknown ids cannot fill memory.</summary>
    private void ForgetIfUnknown()
    {
        if (!record.RecordExists && _state.IsEmpty)
        {
            DeactivateOnIdle();
        }
    }

    private RecommendedEntry[] Entries(IReadOnlyList<ScoredItem> items) => RecommendedEntries.From(items, services.Recommender);
}
