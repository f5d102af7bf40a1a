using System.Runtime.InteropServices;
using Recsys.Domain.Catalogue;
using Recsys.Domain.Events;
using Recsys.Domain.Users;

namespace Recsys.Domain.Recommendation;

public enum ReasonKind
{
    /// <summary>Co-occurs with something the user did (<see cref="RecommendationReason.SourceItem"/>).</summary>
    BecauseYou,
    /// <summary>Often seen together with the item asked about.</summary>
    SeenTogether,
    Trending,
    PopularInCategory,
    /// <summary>Nothing ranks it yet: shown so that a new shop is never empty.</summary>
    FromCatalogue,
    /// <summary>Close to the item asked about in the model's item space.</summary>
    SimilarTo,
}

public readonly record struct RecommendationReason(ReasonKind Kind, int SourceItem = -1, BehaviourType SourceType = BehaviourType.View);

/// <summary>One recommended item. Scores are relative strengths in [0, 1], best first, not probabilities.</summary>
public readonly record struct ScoredItem(CatalogueEntry Entry, float Score, RecommendationReason Reason);

public sealed record FallbackRecommenderOptions
{
    /// <summary>How many of the user's most recent distinct items seed the candidates.</summary>
    public int HistoryLookback { get; init; } = 10;

    /// <summary>Weight multiplier per step back in the user's history.</summary>
    public float RecencyDecay { get; init; } = 0.85f;
}

/// <summary>
/// The recommender that works without a model and stays as the fallback: item co-occurrence with the
/// user's recent behaviour, topped up with trending items; cold users get trending.
/// </summary>
public sealed class FallbackRecommender(
    ItemCatalogue catalogue,
    TrendingIndex trending,
    CoOccurrenceIndex coOccurrence,
    FallbackRecommenderOptions options)
{
    // Scores from behaviour-based candidates sit above trending ones so the list stays ordered by evidence.
    private const float PersonalFloor = 0.5f;

    [ThreadStatic]
    private static Dictionary<int, Candidate>? t_candidates;

    public ItemCatalogue Catalogue => catalogue;

    public IReadOnlyList<ScoredItem> Recommend(UserSnapshot user, int count, RecommendationFilter filter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var accept = filter.Compile(catalogue, user);
        var result = new List<ScoredItem>(count);
        if (accept.MatchesNothing)
        {
            return result;
        }
        var candidates = t_candidates ??= [];
        candidates.Clear();
        var recent = user.Recent;
        var weight = 1f;
        Span<int> sources = stackalloc int[options.HistoryLookback];
        var sourceCount = 0;
        for (var i = recent.Count - 1; i >= 0 && sourceCount < options.HistoryLookback; i--)
        {
            var record = recent[i];
            if (sources[..sourceCount].Contains(record.ItemIndex))
            {
                continue;
            }
            sources[sourceCount++] = record.ItemIndex;
            var sourceWeight = weight * record.Type.InterestWeight();
            weight *= options.RecencyDecay;
            foreach (var neighbour in coOccurrence.Neighbours(record.ItemIndex))
            {
                ref var candidate = ref CollectionsMarshal.GetValueRefOrAddDefault(candidates, neighbour.ItemIndex, out var existed);
                var contribution = sourceWeight * neighbour.Similarity;
                candidate.Score += contribution;
                if (!existed || contribution > candidate.BestContribution)
                {
                    candidate.BestContribution = contribution;
                    candidate.Source = record.ItemIndex;
                    candidate.SourceType = record.Type;
                }
            }
        }
        AddBest(candidates, count, accept, result, static c => new RecommendationReason(ReasonKind.BecauseYou, c.Source, c.SourceType));
        if (result.Count < count)
        {
            var reason = new RecommendationReason(filter.Category is null ? ReasonKind.Trending : ReasonKind.PopularInCategory);
            AddTrending(count, accept, result, reason);
        }
        return result;
    }

    /// <summary>Items often seen with <paramref name="itemIndex"/>, then popular items of its category, then trending.</summary>
    public IReadOnlyList<ScoredItem> Similar(int itemIndex, int count, RecommendationFilter filter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var result = new List<ScoredItem>(count);
        var accept = filter.Compile(catalogue, UserSnapshot.Empty);
        if (accept.MatchesNothing)
        {
            return result;
        }
        var candidates = t_candidates ??= [];
        candidates.Clear();
        foreach (var neighbour in coOccurrence.Neighbours(itemIndex))
        {
            candidates[neighbour.ItemIndex] = new Candidate { Score = neighbour.Similarity, Source = itemIndex };
        }
        candidates.Remove(itemIndex);
        AddBest(candidates, count, accept, result, static c => new RecommendationReason(ReasonKind.SeenTogether, c.Source));
        if (result.Count < count && filter.Category is null && catalogue.Get(itemIndex)?.Item.Category is { } category)
        {
            var sameCategory = (filter with { Category = category }).Compile(catalogue, UserSnapshot.Empty);
            AddTrending(count, sameCategory, result, new RecommendationReason(ReasonKind.PopularInCategory, itemIndex), exclude: itemIndex);
        }
        if (result.Count < count)
        {
            AddTrending(count, accept, result, new RecommendationReason(ReasonKind.Trending), exclude: itemIndex);
        }
        return result;
    }

    /// <summary>The sentence shown to the shopper for one recommendation.</summary>
    public string Explain(in ScoredItem item)
    {
        var reason = item.Reason;
        switch (reason.Kind)
        {
            case ReasonKind.BecauseYou:
                var source = NameOf(reason.SourceItem);
                return reason.SourceType switch
                {
                    BehaviourType.Purchase => $"because you bought {source}",
                    BehaviourType.Cart => $"because you added {source} to your cart",
                    BehaviourType.Click => $"because you clicked {source}",
                    BehaviourType.Search => $"because you searched for {source}",
                    _ => $"because you viewed {source}",
                };
            case ReasonKind.SeenTogether:
                return $"often viewed together with {NameOf(reason.SourceItem)}";
            case ReasonKind.PopularInCategory:
                return $"popular in {item.Entry.Item.Category}";
            case ReasonKind.FromCatalogue:
                return "from the catalogue";
            case ReasonKind.SimilarTo:
                return $"similar to {NameOf(reason.SourceItem)}";
            default:
                return "trending now";
        }
    }

    private string NameOf(int itemIndex) =>
        catalogue.Get(itemIndex)?.Item.DisplayName ?? catalogue.Items.GetId(itemIndex);

    private static void AddBest(Dictionary<int, Candidate> candidates, int count, CompiledFilter accept, List<ScoredItem> result,
        Func<Candidate, RecommendationReason> reasonOf)
    {
        if (candidates.Count == 0)
        {
            return;
        }
        var items = new int[candidates.Count];
        var keys = new float[candidates.Count];
        var n = 0;
        foreach (var (item, candidate) in candidates)
        {
            items[n] = item;
            keys[n++] = -candidate.Score;
        }
        Array.Sort(keys, items);
        var best = -keys[0];
        for (var i = 0; i < n && result.Count < count; i++)
        {
            if (accept.Accept(items[i]) is { } entry)
            {
                var score = PersonalFloor + (1 - PersonalFloor) * (-keys[i] / best);
                result.Add(new ScoredItem(entry, score, reasonOf(candidates[items[i]])));
            }
        }
    }

    private void AddTrending(int count, CompiledFilter accept, List<ScoredItem> result, RecommendationReason reason, int exclude = -1)
    {
        var ranked = trending.GetRanked();
        for (var i = 0; i < ranked.Items.Length && result.Count < count; i++)
        {
            var item = ranked.Items[i];
            if (item != exclude && !Contains(result, item) && accept.Accept(item) is { } entry)
            {
                result.Add(new ScoredItem(entry, PersonalFloor * ranked.Scores[i], reason));
            }
        }
        // The ranked list ran out (a narrow filter, or a shop with few events): scan the catalogue. Ranked
        // items that passed are already in the result and those that failed fail again, so only new ones join.
        foreach (var entry in catalogue.Entries())
        {
            if (result.Count >= count)
            {
                break;
            }
            if (entry.Index != exclude && !Contains(result, entry.Index) && accept.Accept(entry.Index) is not null)
            {
                result.Add(new ScoredItem(entry, 0f, new RecommendationReason(ReasonKind.FromCatalogue)));
            }
        }
    }

    private static bool Contains(List<ScoredItem> result, int itemIndex)
    {
        foreach (var item in result)
        {
            if (item.Entry.Index == itemIndex)
            {
                return true;
            }
        }
        return false;
    }

    private struct Candidate
    {
        public float Score;
        public float BestContribution;
        public int Source;
        public BehaviourType SourceType;
    }
}
