using Microsoft.Extensions.Logging;
using Recsys.Actors;
using Recsys.Contracts;
using Recsys.Domain.Catalogue;
using Recsys.Domain.Events;
using Recsys.Domain.Recommendation;
using Recsys.Domain.Users;
using Recsys.Model.Serving;
using Recsys.Silo.Serving;
using Recsys.Silo.State;

namespace Recsys.Silo;

/// <summary>
/// The embedded default: user actors, catalogue, trending and co-occurrence in this process, events
/// delivered to actors directly. Recommendations are computed by a stateless worker pool from the
/// user actor's snapshot, so a slow scoring never holds up the user's event turns.
/// </summary>
public sealed class EmbeddedCluster : IFrontend, IAsyncDisposable
{
    public const string FallbackModelVersion = "fallback-v1";

    private readonly ActorHost<string, UserActor> _users;
    private readonly StatelessWorkerPool<FallbackRecommender>? _recommenders;
    private readonly SiloServices _services;
    private readonly IStateStore _store;
    private readonly FallbackRecommender _recommender;
    private readonly FeedbackLedger _feedback = new();
    private readonly ILogger _logger;
    private long _accepted;
    private long _duplicates;

    public EmbeddedCluster(SiloOptions options, IStateStore store, TimeProvider clock, ILoggerFactory loggerFactory)
    {
        _services = SiloServices.Create(options, clock);
        _store = store;
        _users = new ActorHost<string, UserActor>(userId => new UserActor(userId, _services, store), options.Actors, clock,
            loggerFactory.CreateLogger("Recsys.Silo.UserActors"));
        _recommender = _services.Recommender;
        _logger = loggerFactory.CreateLogger("Recsys.Silo.Models");
        if (options.RecommendationWorkers > 0)
        {
            _recommenders = new StatelessWorkerPool<FallbackRecommender>(_ => _recommender, options.RecommendationWorkers, options.RecommendationQueueCapacity);
        }
        Metrics = new SiloMetrics(_services.Serving, _feedback, () => _users.ActiveCount);
    }

    public SiloMetrics Metrics { get; }

    /// <summary>Lists served and the feedback events that came back, per model version.</summary>
    public FeedbackLedger Feedback => _feedback;

    public ItemCatalogue Catalogue => _services.Catalogue;

    /// <summary>
    /// Where reads get a user's state; null reads the user's actor in this process. Cluster mode reads the state
    /// store instead, since the owning actor may live in another silo.
    /// </summary>
    public IUserStateReader? StateReader { get; set; }

    /// <summary>Cached intents of users whose actor is elsewhere (cluster-mode gateways); null: none kept.</summary>
    public IntentSlotCache? RemoteIntents { get; set; }

    public SiloServices Services => _services;

    public ActorHost<string, UserActor> Users => _users;

    public long AcceptedEvents => Interlocked.Read(ref _accepted);

    public long DuplicateEvents => Interlocked.Read(ref _duplicates);

    public async Task<IngestResult> IngestAsync(IReadOnlyList<BehaviourEvent> events, CancellationToken cancellationToken)
    {
        // One turn per user and batch: a user's events apply in the order sent, different users in parallel.
        var byUser = BehaviourEventBatches.ByUser(events);
        var turns = new List<(List<BehaviourEvent> Events, Task<ApplyOutcome[]> Outcomes)>(byUser.Count);
        foreach (var (userId, userEvents) in byUser)
        {
            turns.Add((userEvents, _users.AskAsync(userId, userEvents, static (actor, batch) => actor.Apply(batch), cancellationToken).AsTask()));
        }
        await Task.WhenAll(turns.Select(static t => t.Outcomes));
        var accepted = 0;
        var duplicates = 0;
        foreach (var (userEvents, turn) in turns)
        {
            var outcomes = turn.Result;
            for (var i = 0; i < outcomes.Length; i++)
            {
                if (outcomes[i] == ApplyOutcome.Applied)
                {
                    accepted++;
                    _feedback.RecordFeedback(userEvents[i]); // replays are not counted twice
                }
                else
                {
                    duplicates++;
                }
            }
        }
        Interlocked.Add(ref _accepted, accepted);
        Interlocked.Add(ref _duplicates, duplicates);
        Metrics.EventsIngested.Add(accepted, new KeyValuePair<string, object?>("outcome", "applied"));
        Metrics.EventsIngested.Add(duplicates, new KeyValuePair<string, object?>("outcome", "duplicate"));
        return new IngestResult(accepted, duplicates);
    }

    /// <summary>
    /// Cluster mode: events this gateway handed to the stream. They count for feedback here (the gateway answers the
    /// admin endpoint) and, when no worker in this process applies them, for trending.
    /// </summary>
    public void ObservePublished(IReadOnlyList<BehaviourEvent> events, bool recordTrending)
    {
        foreach (var e in events)
        {
            _feedback.RecordFeedback(e);
            if (recordTrending && e.ItemId is not null)
            {
                _services.Trending.Record(_services.Catalogue.Items.GetOrAdd(e.ItemId), e.Type, e.Timestamp.ToUnixTimeMilliseconds());
            }
        }
        Interlocked.Add(ref _accepted, events.Count);
        Metrics.EventsIngested.Add(events.Count, new KeyValuePair<string, object?>("outcome", "published"));
    }

    public Task<int> UpsertItemsAsync(IReadOnlyList<CatalogueItem> items, CancellationToken cancellationToken)
    {
        foreach (var item in items)
        {
            _services.Catalogue.Upsert(item);
        }
        return Task.FromResult(items.Count);
    }

    public ModelServing Serving => _services.Serving;

    public async Task<RecommendationsResponse> RecommendAsync(string userId, int count, RecommendationFilter filter, CancellationToken cancellationToken)
    {
        using var span = SiloTelemetry.Source.StartActivity("recommend");
        UserSnapshot user;
        using (var state = SiloTelemetry.Source.StartActivity("user.state"))
        {
            // The user's actor (embedded) or the state store (cluster mode).
            user = await GetSnapshotAsync(userId, cancellationToken);
            state?.SetTag("recsys.user.events", user.EventCount);
        }
        if (!user.IsCold && _services.Serving.ModelFor(userId) is not null)
        {
            // The actor's slot caches the intent; without a local actor, the shared cache (cluster-mode gateways) or a
            // throwaway slot that encodes once.
            var slot = _users.PeekPublished(userId, static actor => actor.Intent) ?? RemoteIntents?.For(userId) ?? new IntentSlot();
            if (await _services.Serving.RecommendAsync(user, slot, count, filter, cancellationToken) is { } neural)
            {
                return new RecommendationsResponse(userId, NewRecommendationId(neural.Model.Version), neural.Model.Version, ToContract(neural.Items));
            }
        }
        var items = await ComputeAsync((user, count, filter),
            static (recommender, request) => recommender.Recommend(request.user, request.count, request.filter), cancellationToken);
        return new RecommendationsResponse(userId, NewRecommendationId(FallbackModelVersion), FallbackModelVersion, ToContract(items));
    }

    public async Task<SimilarItemsResponse?> SimilarAsync(string itemId, int count, RecommendationFilter filter, CancellationToken cancellationToken)
    {
        if (!_services.Catalogue.Items.TryGetIndex(itemId, out var itemIndex))
        {
            return null;
        }
        if (await _services.Serving.SimilarAsync(itemIndex, count, filter, cancellationToken) is { } neural)
        {
            return new SimilarItemsResponse(itemId, NewRecommendationId(neural.Model.Version), neural.Model.Version, ToContract(neural.Items));
        }
        var items = await ComputeAsync((itemIndex, count, filter),
            static (recommender, request) => recommender.Similar(request.itemIndex, request.count, request.filter), cancellationToken);
        return new SimilarItemsResponse(itemId, NewRecommendationId(FallbackModelVersion), FallbackModelVersion, ToContract(items));
    }

    public async Task<UserProfileResponse> GetUserAsync(string userId, int recentLimit, CancellationToken cancellationToken)
    {
        var user = await GetSnapshotAsync(userId, cancellationToken);
        var items = _services.Catalogue.Items;
        var recent = new List<RecentBehaviour>(Math.Min(recentLimit, user.Recent.Count));
        for (var i = user.Recent.Count - 1; i >= 0 && recent.Count < recentLimit; i--)
        {
            var record = user.Recent[i];
            recent.Add(new RecentBehaviour(items.GetId(record.ItemIndex), record.Type.ToWireName(),
                DateTimeOffset.FromUnixTimeMilliseconds(record.TimestampMs)));
        }
        return new UserProfileResponse(
            userId,
            user.EventCount,
            user.EventCount > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(user.LastEventMs) : null,
            recent,
            user.Purchased.Select(items.GetId).ToArray(),
            user.Queries,
            _users.PeekPublished(userId, static actor => actor.Intent.Current) is { } intent
                ? new UserIntent(intent.ModelVersion, intent.PurchaseIntent is { } p ? Math.Round(p, 4) : null)
                : null);
    }

    public Task<ModelsResponse> GetModelsAsync(CancellationToken cancellationToken) =>
        Task.FromResult(new ModelsResponse(_services.Serving.Describe(), _feedback.Snapshot()));

    public async Task<ModelsResponse> LoadModelAsync(string path, ModelRole role, double share, CancellationToken cancellationToken)
    {
        var model = await _services.Serving.LoadAsync(path, role, share, cancellationToken);
        _logger.LogInformation("Loaded model {Version} ({Items} items) from {Path} as {Role}{Share}", model.Version, model.ItemIds.Count - 1,
            path, role, role == ModelRole.Candidate ? $" for {share:P1} of users" : "");
        return await GetModelsAsync(cancellationToken);
    }

    public Task<bool> EndCandidateAsync(bool promote, CancellationToken cancellationToken)
    {
        var candidate = _services.Serving.Assignment?.Candidate?.Version;
        var ended = _services.Serving.EndCandidate(promote);
        if (ended)
        {
            _logger.LogInformation("A/B test ended: candidate {Version} {Outcome}", candidate, promote ? "promoted to primary" : "dropped");
        }
        return Task.FromResult(ended);
    }

    public async ValueTask DisposeAsync()
    {
        Metrics.Dispose();
        await _users.DisposeAsync();
        await _services.Serving.DisposeAsync();
        if (_recommenders is not null)
        {
            await _recommenders.DisposeAsync();
        }
    }

    /// <summary>
    /// The user's state as their actor holds it: the published snapshot when no turn changed it since, else
    /// through a turn. Users never seen get an empty snapshot without an
    /// activation, so that reads for unknown ids (scans, typos) cannot fill memory with empty actors.
    /// </summary>
    private async ValueTask<UserSnapshot> GetSnapshotAsync(string userId, CancellationToken cancellationToken)
    {
        if (StateReader is { } reader)
        {
            return await reader.ReadAsync(userId, cancellationToken);
        }
        if (_users.PeekPublished(userId, static actor => actor.PublishedSnapshot) is { } published)
        {
            return published;
        }
        if (!_users.IsActive(userId) && !await _store.ExistsAsync(userId, cancellationToken))
        {
            return UserSnapshot.ForUnknownUser(userId);
        }
        return await _users.AskAsync(userId, 0, static (actor, _) => actor.Snapshot(), cancellationToken);
    }

    private ValueTask<IReadOnlyList<ScoredItem>> ComputeAsync<TRequest>(TRequest request,
        Func<FallbackRecommender, TRequest, IReadOnlyList<ScoredItem>> compute, CancellationToken cancellationToken) =>
        _recommenders is null
            ? ValueTask.FromResult(compute(_recommender, request))
            : _recommenders.InvokeAsync(request, compute, cancellationToken);

    private RecommendedItem[] ToContract(IReadOnlyList<ScoredItem> items)
    {
        var result = new RecommendedItem[items.Count];
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            result[i] = new RecommendedItem(item.Entry.Item.ItemId, Math.Round(item.Score, 4), _recommender.Explain(item));
        }
        return result;
    }

    /// <summary>A list's id, naming the version that made it; counts the list for that version's feedback.</summary>
    private string NewRecommendationId(string modelVersion)
    {
        _feedback.RecordServed(modelVersion);
        Metrics.RecommendationsServed.Add(1, new KeyValuePair<string, object?>("model_version", modelVersion));
        if (System.Diagnostics.Activity.Current is { IsAllDataRequested: true } span)
        {
            span.SetTag("recsys.model_version", modelVersion); // only on recorded spans: the request's activity exists for log scopes too
        }
        return RecommendationId.New(modelVersion);
    }
}
