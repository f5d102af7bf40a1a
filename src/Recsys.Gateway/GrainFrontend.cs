using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Recsys.Contracts;
using Recsys.Domain.Catalogue;
using Recsys.Domain.Events;
using Recsys.Domain.Recommendation;
using Recsys.Domain.Users;
using Recsys.Grains;
using Recsys.Silo;
using Recsys.Silo.Serving;

namespace Recsys.Gateway;

/// <summary>
/// The gateway's side of the Orleans cluster: events go to their users' grains through the <see cref="IEventIngress"/>
/// (direct calls, or the event stream in cluster mode), reads ask the user's grain (or read what it published when it is
/// active on this silo), similar items fan out over the shard grains. The gateway mints each list's
/// recommendation id and counts feedback per model version.
/// </summary>
public sealed class GrainFrontend : IFrontend, IDisposable
{
    private readonly GrainReferences _grains;
    private readonly IEventIngress _ingress;
    private readonly ICatalogueWriter _catalogue;
    private readonly SiloServices _services;
    private readonly ShardGrainSearch _search;
    private readonly ActiveUsers _active;
    private readonly UserReads _reads;
    private readonly ILogger _logger;
    private readonly RecommendationId _ids;
    private long _accepted;

    public GrainFrontend(GrainReferences grains, IEventIngress ingress, ICatalogueWriter catalogue, SiloServices services, ShardGrainSearch search,
        ActiveUsers active, UserReads reads, RecommendationId ids, ILoggerFactory loggers)
    {
        _ids = ids;
        _grains = grains;
        _ingress = ingress;
        _catalogue = catalogue;
        _services = services;
        _search = search;
        _active = active;
        _reads = reads;
        _logger = loggers.CreateLogger("Recsys.Gateway.Models");
        Metrics = new SiloMetrics(services.Serving, Feedback, () => active.Count);
    }

    public SiloMetrics Metrics { get; }

    /// <summary>Lists served and the feedback events that came back, per model version.</summary>
    public FeedbackLedger Feedback { get; } = new();

    /// <summary>Events applied to users' state since start (replays excluded).</summary>
    public long AcceptedEvents => Interlocked.Read(ref _accepted);

    public async Task<IngestResult> IngestAsync(IReadOnlyList<BehaviourEvent> events, CancellationToken cancellationToken)
    {
        var byUser = BehaviourEventBatches.ByUser(events).ToArray();
        var applied = await _ingress.SendAsync(byUser, cancellationToken);
        var accepted = 0;
        for (var u = 0; u < byUser.Length; u++)
        {
            var userEvents = byUser[u].Value;
            for (var i = 0; i < userEvents.Count; i++)
            {
                // Through the stream the grains apply the events after this answer: count them as sent (replays are
                // recognised by the grains, which dedup by event id).
                if (applied is null || applied[u][i])
                {
                    accepted++;
                    Feedback.RecordFeedback(userEvents[i]);
                }
            }
        }
        var duplicates = events.Count - accepted;
        Interlocked.Add(ref _accepted, accepted);
        Metrics.EventsIngested.Add(accepted, new KeyValuePair<string, object?>("outcome", applied is null ? "published" : "applied"));
        Metrics.EventsIngested.Add(duplicates, new KeyValuePair<string, object?>("outcome", "duplicate"));
        return new IngestResult(accepted, duplicates);
    }

    public Task<int> UpsertItemsAsync(IReadOnlyList<CatalogueItem> items, CancellationToken cancellationToken) =>
        _catalogue.UpsertAsync(items, cancellationToken);

    public async Task<RecommendationsResponse> RecommendAsync(string userId, int count, RecommendationFilter filter, CancellationToken cancellationToken)
    {
        using var span = SiloTelemetry.Source.StartActivity("recommend");
        var query = new RecommendQuery(count, filter);
        // A user whose grain is active on this silo is read from its published snapshot, without a grain call.
        RecommendationList list;
        if (_active.TryGet(userId, out var local))
        {
            list = await _reads.RecommendAsync(local, query);
        }
        else
        {
            try
            {
                list = await WithFailoverAsync(() => _grains.User(userId).RecommendAsync(query));
            }
            catch (ServiceUnavailableException)
            {
                // The user's silo died and membership has not moved them yet: a shopper gets what a new visitor would
                // (trending, filtered) rather than an error page; their own list is back once the grain is elsewhere.
                _logger.LogDebug("Recommendations answered from trending: the user's silo did not answer");
                list = new RecommendationList(UserGrain.FallbackModelVersion,
                    RecommendedEntries.From(_services.Recommender.Recommend(UserSnapshot.Empty, count, filter), _services.Recommender));
            }
        }
        return new RecommendationsResponse(userId, NewRecommendationId(list.ModelVersion), list.ModelVersion, ToContract(list.Items));
    }

    public async Task<SimilarItemsResponse?> SimilarAsync(string itemId, int count, RecommendationFilter filter, CancellationToken cancellationToken)
    {
        if (!_services.Catalogue.Items.TryGetIndex(itemId, out var itemIndex))
        {
            return null;
        }
        var serving = _services.Serving;
        if (await serving.SimilarAsync(itemIndex, count, filter, _search, cancellationToken) is { } neural)
        {
            var filled = ListTopUp.Fill(neural.Items, count, () => _services.Recommender.Similar(itemIndex, count, filter));
            return new SimilarItemsResponse(itemId, NewRecommendationId(neural.Model.Version), neural.Model.Version, ToContract(filled));
        }
        var items = _services.Recommender.Similar(itemIndex, count, filter);
        return new SimilarItemsResponse(itemId, NewRecommendationId(UserGrain.FallbackModelVersion), UserGrain.FallbackModelVersion,
            ToContract(items));
    }

    public async Task<UserProfileResponse> GetUserAsync(string userId, int recentLimit, CancellationToken cancellationToken)
    {
        var view = _active.TryGet(userId, out var local)
            ? _reads.View(local, recentLimit)
            : await WithFailoverAsync(() => _grains.User(userId).GetViewAsync(recentLimit));
        return new UserProfileResponse(userId, view.EventCount, view.LastEventAt,
            view.Recent.Select(static r => new RecentBehaviour(r.ItemId, r.Type, r.Timestamp)).ToArray(), view.Purchased, view.Queries,
            view.IntentModelVersion is { } version ? new UserIntent(version, view.PurchaseIntent) : null);
    }

    public async Task<UserExportResponse> ExportUserAsync(string userId, CancellationToken cancellationToken)
    {
        var export = await WithFailoverAsync(() => _grains.User(userId).ExportAsync());
        var view = export.View;
        return new UserExportResponse(userId, view.EventCount, view.LastEventAt,
            view.Recent.Select(static r => new RecentBehaviour(r.ItemId, r.Type, r.Timestamp)).ToArray(), view.Purchased, view.Queries,
            export.RememberedEventIds, view.IntentModelVersion is { } version ? new UserIntent(version, view.PurchaseIntent) : null,
            export.IntentVector);
    }

    public async Task<UserErasedResponse> EraseUserAsync(string userId, CancellationToken cancellationToken)
    {
        var erased = await WithFailoverAsync(() => _grains.User(userId).EraseAsync());
        _logger.LogInformation("Erased a user: {Events} events, {Behaviours} behaviours, {Purchases} purchases, {Searches} searches",
            erased.Events, erased.Behaviours, erased.Purchases, erased.Searches); // never the id: logs keep no user data
        return new UserErasedResponse(userId, erased.Events, erased.Behaviours, erased.Purchases, erased.Searches, erased.EventIds, erased.Intent);
    }

    public Task<ModelsResponse> GetModelsAsync(CancellationToken cancellationToken) =>
        Task.FromResult(new ModelsResponse(_services.Serving.Describe(), Feedback.Snapshot()));

    public async Task<ModelsResponse> LoadModelAsync(string path, ModelRole role, double share, CancellationToken cancellationToken)
    {
        var model = await _services.Serving.LoadAsync(path, role, share, cancellationToken);
        _logger.LogInformation("Loaded model {Version} ({Items} items) from {Path} as {Role}{Share}", model.Version, model.ItemIds.Count - 1,
            path, role, role == ModelRole.Candidate ? $" for {share:P1} of users" : "");
        if (_services.Serving.FitOf(model).Warning is { } warning)
        {
            _logger.LogWarning("Loaded model does not fit the catalogue: {Warning}", warning);
        }
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

    public void Dispose() => Metrics.Dispose();

    /// <summary>
    /// A read whose grain's silo died waits out one response timeout; by then membership has usually declared the
    /// silo dead, and the retry activates the user on a live silo from its committed state. Twice unanswered is a 503.
    /// </summary>
    private static async Task<T> WithFailoverAsync<T>(Func<Task<T>> read)
    {
        try
        {
            return await read();
        }
        catch (Exception first) when (first is TimeoutException or SiloUnavailableException or OrleansMessageRejectionException)
        {
            try
            {
                return await read();
            }
            catch (Exception again) when (again is TimeoutException or SiloUnavailableException or OrleansMessageRejectionException)
            {
                throw new ServiceUnavailableException("the silo holding this user did not answer; retry shortly", again);
            }
        }
    }

    private RecommendedItem[] ToContract(IReadOnlyList<ScoredItem> items) => ToContract(RecommendedEntries.From(items, _services.Recommender));

    private static RecommendedItem[] ToContract(IReadOnlyList<RecommendedEntry> items)
    {
        var result = new RecommendedItem[items.Count];
        for (var i = 0; i < items.Count; i++)
        {
            result[i] = new RecommendedItem(items[i].ItemId, items[i].Score, items[i].Reason);
        }
        return result;
    }

    /// <summary>A list's id, naming the version that made it; counts the list for that version's feedback.</summary>
    private string NewRecommendationId(string modelVersion)
    {
        Feedback.RecordServed(modelVersion);
        Metrics.RecommendationsServed.Add(1, new KeyValuePair<string, object?>("model_version", modelVersion));
        if (System.Diagnostics.Activity.Current is { IsAllDataRequested: true } span)
        {
            span.SetTag("recsys.model_version", modelVersion); // only on recorded spans: the request's activity exists for log scopes too
        }
        return _ids.New(modelVersion);
    }
}
