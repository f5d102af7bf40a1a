namespace Recsys.Domain.Recommendation;

/// <summary>
/// Fills a ranked list that came up short (a model that knows few of the shop's items) from another ranking, so a list
/// is never shorter than asked while the other has eligible items. Each filled item keeps its own reason; its score is
/// scaled under the last ranked one, so the list stays best first.
/// </summary>
public static class ListTopUp
{
    public static IReadOnlyList<ScoredItem> Fill(IReadOnlyList<ScoredItem> ranked, int count, Func<IReadOnlyList<ScoredItem>> fallback)
    {
        if (ranked.Count >= count)
        {
            return ranked;
        }
        var result = new List<ScoredItem>(count);
        result.AddRange(ranked);
        var floor = ranked.Count > 0 ? ranked[^1].Score : 1f;
        foreach (var item in fallback())
        {
            if (result.Count == count)
            {
                break;
            }
            if (!Contains(ranked, item.Entry.Index))
            {
                result.Add(item with { Score = floor * item.Score });
            }
        }
        return result;
    }

    private static bool Contains(IReadOnlyList<ScoredItem> items, int index)
    {
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i].Entry.Index == index)
            {
                return true;
            }
        }
        return false;
    }
}
