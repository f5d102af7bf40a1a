using Recsys.Domain.Catalogue;
using Recsys.Domain.Events;
using Recsys.Domain.Recommendation;
using Recsys.Domain.Simulation;
using Recsys.Domain.Users;

namespace Recsys.Domain.UnitTests;

public class RecommenderTests
{
    private readonly ItemCatalogue _catalogue = new(new ItemRegistry());
    private readonly TrendingIndex _trending = new(TimeSpan.FromHours(1), new ManualClock(TestData.T0)) { RefreshInterval = TimeSpan.Zero };
    private readonly CoOccurrenceIndex _coOccurrence = new(new CoOccurrenceOptions { RefreshInterval = TimeSpan.Zero });
    private readonly FallbackRecommender _recommender;
    private readonly Dictionary<string, UserState> _users = [];

    public RecommenderTests() =>
        _recommender = new FallbackRecommender(_catalogue, _trending, _coOccurrence, new FallbackRecommenderOptions());

    private void Item(string id, string category = "shoes", decimal? price = 10, bool inStock = true) =>
        _catalogue.Upsert(new CatalogueItem(id, id.ToUpperInvariant(), category, price, inStock));

    /// <summary>Applies an event the way a user actor does: state, then co-occurrence and trending.</summary>
    private void Behave(string user, string item, BehaviourType type = BehaviourType.View, int minute = 0)
    {
        if (!_users.TryGetValue(user, out var state))
        {
            _users[user] = state = new UserState(user, new UserStateOptions());
        }
        var index = _catalogue.Items.GetOrAdd(item);
        var e = TestData.Event(user, item, type, minute);
        state.Apply(e, index, e.Timestamp.ToUnixTimeMilliseconds());
        var record = new BehaviourRecord(index, type, e.Timestamp.ToUnixTimeMilliseconds());
        _coOccurrence.Observe(state.Window, record);
        _trending.Record(index, type, record.TimestampMs);
    }

    private UserSnapshot User(string id) => _users.TryGetValue(id, out var state) ? state.Snapshot() : UserSnapshot.ForUnknownUser(id);

    private static string[] Ids(IEnumerable<ScoredItem> items) => items.Select(i => i.Entry.Item.ItemId).ToArray();

    [Fact]
    public void Trending_ranks_by_weighted_and_decayed_popularity()
    {
        foreach (var id in new[] { "old", "viewed", "bought" })
        {
            Item(id);
        }
        // "old" was popular three hours (three half-lives) ago: 6 views decay to 0.75 of a view now.
        for (var i = 0; i < 6; i++)
        {
            Behave($"u{i}", "old", minute: 0);
        }
        Behave("a", "viewed", minute: 180);
        Behave("b", "viewed", minute: 180);
        Behave("c", "bought", BehaviourType.Purchase, minute: 180); // a purchase weighs 8 views
        Assert.Equal(["bought", "viewed", "old"], Ids(_recommender.Recommend(User("cold"), 3, RecommendationFilter.Default)));
    }

    [Fact]
    public void Trending_survives_exponent_rebasing_over_long_time_spans()
    {
        Item("first");
        Item("later");
        Behave("a", "first", BehaviourType.Purchase, minute: 0);
        Behave("b", "later", minute: 60 * 24 * 30); // a month later: far past the rebase threshold
        var ranked = _trending.GetRanked();
        Assert.Equal(_catalogue.Items.GetOrAdd("later"), ranked.Items[0]);
        Assert.Equal(1f, ranked.Scores[0]);
    }

    [Fact]
    public void A_cold_user_gets_trending_items_with_the_trending_reason()
    {
        Item("hit");
        Behave("someone", "hit");
        var result = _recommender.Recommend(User("newcomer"), 5, RecommendationFilter.Default);
        var only = Assert.Single(result);
        Assert.Equal("hit", only.Entry.Item.ItemId);
        Assert.Equal("trending now", _recommender.Explain(only));
    }

    [Fact]
    public void Items_seen_together_are_recommended_with_the_behaviour_that_explains_them()
    {
        foreach (var id in new[] { "tent", "stove", "lamp", "ball" })
        {
            Item(id);
        }
        // Campers view tent then stove; one also views a lamp. Someone else views a ball, a lot.
        for (var u = 0; u < 5; u++)
        {
            Behave($"camper{u}", "tent", minute: 1);
            Behave($"camper{u}", "stove", minute: 2);
        }
        Behave("camper0", "lamp", minute: 3);
        for (var u = 0; u < 10; u++)
        {
            Behave($"player{u}", "ball", minute: 1);
        }
        Behave("me", "tent", BehaviourType.Cart, minute: 5);
        var result = _recommender.Recommend(User("me"), 3, RecommendationFilter.Default);
        Assert.Equal(["stove", "lamp", "ball"], Ids(result)); // ball only as trending filler, after the co-occurring items
        Assert.Equal("because you added TENT to your cart", _recommender.Explain(result[0]));
        Assert.True(result[0].Score > result[1].Score && result[1].Score > result[2].Score);
        Assert.Equal("trending now", _recommender.Explain(result[2]));
    }

    [Fact]
    public void Filters_exclude_seen_purchased_out_of_stock_other_categories_and_prices_out_of_range()
    {
        Item("seen", price: 10);
        Item("bought", price: 10);
        Item("gone", price: 10, inStock: false);
        Item("hat", category: "hats", price: 10);
        Item("cheap", price: 1);
        Item("dear", price: 100);
        Item("fits", price: 10);
        Item("noprice", price: null);
        foreach (var id in new[] { "seen", "bought", "gone", "hat", "cheap", "dear", "fits", "noprice" })
        {
            Behave("crowd", id);
        }
        Behave("me", "seen");
        Behave("me", "bought", BehaviourType.Purchase);
        var filter = new RecommendationFilter { Category = "SHOES", MinPrice = 5, MaxPrice = 50 };
        Assert.Equal(["fits"], Ids(_recommender.Recommend(User("me"), 10, filter)));
        var withSeen = filter with { IncludeSeen = true, InStockOnly = false };
        Assert.Equal(["bought", "fits", "gone", "seen"], Ids(_recommender.Recommend(User("me"), 10, withSeen)).Order());
        Assert.Empty(_recommender.Recommend(User("me"), 10, new RecommendationFilter { Category = "no such category" }));
    }

    [Fact]
    public void Items_known_only_from_events_are_never_recommended_until_the_catalogue_has_them()
    {
        Behave("crowd", "unlisted", BehaviourType.Purchase);
        Assert.Empty(_recommender.Recommend(User("cold"), 5, RecommendationFilter.Default));
        Item("unlisted");
        Assert.Equal(["unlisted"], Ids(_recommender.Recommend(User("cold"), 5, RecommendationFilter.Default)));
    }

    [Fact]
    public void A_new_shop_without_events_still_returns_catalogue_items()
    {
        Item("a");
        Item("b");
        var result = _recommender.Recommend(User("cold"), 5, RecommendationFilter.Default);
        Assert.Equal(["a", "b"], Ids(result));
        Assert.Equal("from the catalogue", _recommender.Explain(result[0]));
    }

    [Fact]
    public void Similar_items_come_from_co_occurrence_then_the_same_category_and_never_include_the_item()
    {
        foreach (var id in new[] { "phone", "case", "charger" })
        {
            Item(id, category: "phones");
        }
        Item("sofa", category: "furniture");
        Behave("a", "phone");
        Behave("a", "case");
        Behave("b", "charger");
        Behave("c", "sofa", BehaviourType.Purchase);
        var similar = _recommender.Similar(_catalogue.Items.GetOrAdd("phone"), 3, RecommendationFilter.Default);
        Assert.Equal(["case", "charger", "sofa"], Ids(similar));
        Assert.Equal(["often viewed together with PHONE", "popular in phones", "trending now"], similar.Select(s => _recommender.Explain(s)));
    }

    [Fact]
    public void Co_occurrence_similarity_discounts_items_that_go_with_everything()
    {
        foreach (var id in new[] { "anchor", "niche", "bestseller" })
        {
            Item(id);
        }
        // The bestseller co-occurs with the anchor twice, but with 20 other items too; the niche item only with the anchor.
        Behave("u1", "anchor");
        Behave("u1", "niche");
        Behave("u2", "anchor");
        Behave("u2", "bestseller");
        Behave("u3", "anchor");
        Behave("u3", "bestseller");
        for (var i = 0; i < 20; i++)
        {
            Item($"other{i}");
            Behave($"v{i}", $"other{i}");
            Behave($"v{i}", "bestseller");
        }
        var neighbours = _coOccurrence.Neighbours(_catalogue.Items.GetOrAdd("anchor")).ToArray();
        Assert.Equal(_catalogue.Items.GetOrAdd("niche"), neighbours[0].ItemIndex);
    }

    [Fact]
    public void Co_occurrence_prunes_the_weakest_neighbours_beyond_its_bound()
    {
        var index = new CoOccurrenceIndex(new CoOccurrenceOptions { MaxNeighbours = 3, TopNeighbours = 10, RefreshInterval = TimeSpan.Zero });
        var history = new List<BehaviourRecord>();
        // Item 0 pairs with 1..8 once each, and with 9 five times: 9 must survive pruning.
        for (var i = 0; i < 5; i++)
        {
            index.Observe([new BehaviourRecord(9, BehaviourType.View, 0)], new BehaviourRecord(0, BehaviourType.View, 1));
        }
        for (var other = 1; other <= 8; other++)
        {
            index.Observe([new BehaviourRecord(other, BehaviourType.View, 0)], new BehaviourRecord(0, BehaviourType.View, 1));
        }
        var neighbours = index.Neighbours(0).ToArray();
        Assert.True(neighbours.Length <= 6, $"kept {neighbours.Length} neighbours");
        Assert.Equal(9, neighbours[0].ItemIndex);
    }

    [Fact]
    public void The_synthetic_shop_is_deterministic_for_a_seed_and_time_ordered()
    {
        var end = TestData.T0;
        var a = new SyntheticShop(new ShopOptions { Users = 50, Seed = 7 }).History(2000, end, TimeSpan.FromDays(1));
        var b = new SyntheticShop(new ShopOptions { Users = 50, Seed = 7 }).History(2000, end, TimeSpan.FromDays(1));
        var c = new SyntheticShop(new ShopOptions { Users = 50, Seed = 8 }).History(2000, end, TimeSpan.FromDays(1));
        Assert.Equal(a, b);
        Assert.NotEqual(a.Select(e => e.ItemId), c.Select(e => e.ItemId));
        Assert.Equal(2000, a.Count);
        Assert.All(a.Zip(a.Skip(1)), pair => Assert.True(pair.First.Timestamp <= pair.Second.Timestamp));
        Assert.True(a[^1].Timestamp <= end);
        Assert.Equal(a.Count, a.Select(e => e.EventId).Distinct().Count());
        // A funnel, not just views: every behaviour type shows up.
        Assert.Equal(Enum.GetValues<BehaviourType>().Length, a.Select(e => e.Type).Distinct().Count());
    }
}
