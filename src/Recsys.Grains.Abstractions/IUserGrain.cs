using Orleans.Concurrency;

namespace Recsys.Grains;

/// <summary>
/// One shopper (key: the user id): the behaviour window with event-id dedup, the seen and purchased sets and the cached
/// intent. Ingestion turns run one at a time; reads interleave with them and see the state as last committed.
/// </summary>
public interface IUserGrain : IGrainWithStringKey
{
    /// <summary>Applies the events in order and commits the state before answering; replayed event ids change nothing.</summary>
    Task<IngestReceipt> IngestAsync(EventBatch batch);

    /// <summary>What the user should see now: the model's list when it has an intent for them, else the fallback's.</summary>
    [AlwaysInterleave]
    Task<RecommendationList> RecommendAsync(RecommendQuery query);

    /// <summary>The user's recent behaviour, purchases, searches and intent.</summary>
    [AlwaysInterleave]
    Task<UserView> GetViewAsync(int recentLimit);

    /// <summary>Everything held about the user (a turn of its own, so it sees a consistent, committed state).</summary>
    Task<UserExport> ExportAsync();

    /// <summary>Removes the user from memory and storage; events that arrive later start a fresh history.</summary>
    Task<ErasureReceipt> EraseAsync();
}
