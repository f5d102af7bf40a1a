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
/// answers; reads interleave and see <see cref="_local"/>, the snapshot as of the last commit, so they never wait for
/// a write and never see an event that is not durable yet (a front end on this silo reads that snapshot directly, see
/// <see cref="ActiveUsers"/>). New events mark the intent stale; re-encoding runs off the
/// request path through the inference grains, coalesced by the intent slot.
/// </summary>
[PlaceOnRole(SiloRoles.Worker)]
[ImplicitStreamSubscription(EventStreams.Namespace)]
public sealed class UserGrain(
    [PersistentState("user", UserGrain.StorageName)] IPersistentState<UserRecord> record,
    SiloServices services,
    InferenceGrainEncoder encoder,
    UserReads reads,
    UserCommitPolicy commits,
    ActiveUsers active) : Grain, IUserGrain, IStreamSubscriptionObserver
{
    /// <summary>The grain storage provider user state goes to.</summary>
    public const string StorageName = "users";

    public const string FallbackModelVersion = "fallback-v1";

    /// <summary>How long the grain of a user read but never seen stays, in case their first event is on its way.</summary>
    public static readonly TimeSpan UnknownUserGrace = TimeSpan.FromSeconds(2);

    private UserState _state = null!;
    private LocalUser _local = null!;
    private IGrainTimer? _forget;
    private bool _unwritten; // applied events the record does not hold yet (in-process memory only)

    private string UserId => _state.UserId; // one string per user: the grain key's is made anew on every call

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _state = record.RecordExists && record.State.Data.Length > 0
            ? services.Codec.Decode(record.State.Data)
            : new UserState(this.GetPrimaryKeyString(), services.UserOptions);
        _local = new LocalUser(_state.UserId, _state.Snapshot());
        active.Activated(_local);
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        active.Deactivated(_local);
        if (_unwritten)
        {
            // In-process memory: the record is written now, for the next activation (durable storage: at every ingestion).
            await WriteRecordAsync(cancellationToken);
            _unwritten = false;
        }
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
        var appliedCount = 0;
        var nowMs = services.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        _state.MarkKnown(events, applied);
        _state.Reserve(events.Count - applied.Count(static known => known));
        for (var i = 0; i < events.Count; i++)
        {
            if (applied[i])
            {
                applied[i] = false; // known before this batch: a duplicate, even if applying the batch forgot its id
                continue;
            }
            var e = events[i];
            var itemIndex = e.ItemId is null ? -1 : services.Catalogue.Items.GetOrAdd(e.ItemId);
            applied[i] = _state.Apply(e, itemIndex, nowMs, appliedCount) == ApplyOutcome.Applied;
            appliedCount += applied[i] ? 1 : 0;
            if (applied[i] && itemIndex >= 0)
            {
                var behaviour = new BehaviourRecord(itemIndex, e.Type, e.Timestamp.ToUnixTimeMilliseconds());
                services.CoOccurrence.Observe(_state.Window, behaviour);
                services.Trending.Record(itemIndex, e.Type, behaviour.TimestampMs);
            }
        }
        if (appliedCount == 0)
        {
            return new IngestReceipt(applied);
        }
        if (commits.CommitBeforeAcknowledging)
        {
            try
            {
                await WriteRecordAsync(CancellationToken.None);
            }
            catch
            {
                // The state in memory is ahead of storage: start over from what storage holds.
                DeactivateOnIdle();
                throw;
            }
        }
        else
        {
            _unwritten = true;
        }
        _local.Commit(_state.Snapshot());
        active.Committed(appliedCount);
        if (services.Serving.ModelFor(UserId) is { } model)
        {
            _local.Intent.Update(_local.Committed, model, encoder);
        }
        return new IngestReceipt(applied);
    }

    public async Task<RecommendationList> RecommendAsync(RecommendQuery query)
    {
        ForgetIfUnknown();
        return await reads.RecommendAsync(_local, query);
    }

    public Task<UserView> GetViewAsync(int recentLimit)
    {
        ForgetIfUnknown();
        return Task.FromResult(reads.View(_local, recentLimit));
    }

    public Task<UserExport> ExportAsync()
    {
        ForgetIfUnknown();
        return Task.FromResult(new UserExport(reads.View(_local, int.MaxValue), _state.RememberedEventIds, _local.Intent.Current?.Vector));
    }

    public async Task<ErasureReceipt> EraseAsync()
    {
        var receipt = new ErasureReceipt(_state.EventCount, _state.WindowCount, _state.Purchased.Count, _state.Queries.Count,
            _state.RememberedEventIds, _local.Intent.Current is not null);
        if (record.RecordExists)
        {
            await record.ClearStateAsync();
        }
        // Reads from here on see a user never seen; the activation (and its intent, pending encodes) goes with the turn.
        _state = new UserState(UserId, services.UserOptions);
        _unwritten = false;
        active.Deactivated(_local);
        _local = new LocalUser(_state.UserId, _state.Snapshot());
        active.Activated(_local);
        DeactivateOnIdle();
        return receipt;
    }

    private Task WriteRecordAsync(CancellationToken cancellationToken)
    {
        record.State = new UserRecord { Data = services.Codec.Encode(_state) };
        return record.WriteStateAsync(cancellationToken);
    }

    /// <summary>
    /// A read for a user never seen leaves no activation behind for long, so scans of unknown ids cannot fill memory.
    /// Not at once: a new shopper's page reads before their first event lands, and an event delivered to an activation
    /// that is deactivating waits out the stream's retry backoff (seconds) instead of being applied.
    /// </summary>
    private void ForgetIfUnknown()
    {
        if (!record.RecordExists && _state.IsEmpty && _forget is null)
        {
            _forget = this.RegisterGrainTimer(() =>
            {
                if (!record.RecordExists && _state.IsEmpty)
                {
                    DeactivateOnIdle();
                }
                return Task.CompletedTask;
            }, UnknownUserGrace, Timeout.InfiniteTimeSpan);
        }
    }
}
