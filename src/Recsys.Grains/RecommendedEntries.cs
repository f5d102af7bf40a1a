using Recsys.Domain.Recommendation;

namespace Recsys.Grains;

/// <summary>Scored items as they leave the silo that scored them: external ids, rounded scores, worded reasons.</summary>
public static class RecommendedEntries
{
    public static RecommendedEntry[] From(IReadOnlyList<ScoredItem> items, FallbackRecommender explainer)
    {
        var entries = new RecommendedEntry[items.Count];
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            entries[i] = new RecommendedEntry(item.Entry.Item.ItemId, Math.Round(item.Score, 4), explainer.Explain(item));
        }
        return entries;
    }
}
