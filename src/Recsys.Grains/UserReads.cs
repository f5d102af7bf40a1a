using Recsys.Domain.Events;
using Recsys.Domain.Recommendation;
using Recsys.Domain.Users;
using Recsys.Silo;

namespace Recsys.Grains;

/// <summary>
/// A user's reads over what their grain published: the user grain answers with them, and a front end on the silo that
/// holds the grain calls them directly (no grain call), so both give the same answer.
/// </summary>
public sealed class UserReads(SiloServices services, InferenceGrainEncoder encoder, ShardGrainSearch search)
{
    public async Task<RecommendationList> RecommendAsync(LocalUser local, RecommendQuery query)
    {
        var user = local.Committed;
        if (!user.IsCold && services.Serving.ModelFor(local.UserId) is not null &&
            await services.Serving.RecommendAsync(user, local.Intent, query.Count, query.Filter, encoder, search, CancellationToken.None) is { } neural)
        {
            // A model that knows few of the shop's items finds few: the fallback fills the rest, each with its own reason.
            var items = ListTopUp.Fill(neural.Items, query.Count, () => services.Recommender.Recommend(user, query.Count, query.Filter));
            return new RecommendationList(neural.Model.Version, RecommendedEntries.From(items, services.Recommender));
        }
        return new RecommendationList(UserGrain.FallbackModelVersion,
            RecommendedEntries.From(services.Recommender.Recommend(user, query.Count, query.Filter), services.Recommender));
    }

    public UserView View(LocalUser local, int recentLimit)
    {
        var user = local.Committed;
        var items = services.Catalogue.Items;
        var recent = new List<BehaviourView>(Math.Min(recentLimit, user.Recent.Count));
        for (var i = user.Recent.Count - 1; i >= 0 && recent.Count < recentLimit; i--)
        {
            var behaviour = user.Recent[i];
            recent.Add(new BehaviourView(items.GetId(behaviour.ItemIndex), behaviour.Type.ToWireName(),
                DateTimeOffset.FromUnixTimeMilliseconds(behaviour.TimestampMs)));
        }
        var intent = local.Intent.Current;
        return new UserView(
            user.EventCount,
            user.EventCount > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(user.LastEventMs) : null,
            recent,
            user.Purchased.Select(items.GetId).ToArray(),
            user.Queries,
            intent?.ModelVersion,
            intent?.PurchaseIntent is { } p ? Math.Round(p, 4) : null);
    }
}
