using Recsys.Domain.Catalogue;
using Recsys.Domain.Events;

namespace Recsys.Domain.Simulation;

public sealed record ShopOptions
{
    public int Seed { get; init; } = 42;
    public int Categories { get; init; } = 24;
    public int ItemsPerCategory { get; init; } = 80;
    public int Users { get; init; } = 1000;

    /// <summary>Put before every generated event id, so separate runs never collide in dedup.</summary>
    public string EventIdPrefix { get; init; } = "demo";

    public void Validate()
    {
        if (Categories < 1 || ItemsPerCategory < 1 || Users < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Categories), "a shop needs at least one category, item and user");
        }
    }
}

/// <summary>
/// A realistic synthetic shop: categories of priced items with skewed popularity, and shoppers whose
/// interests drift between sessions; a session searches, views, clicks, and sometimes carts and buys.
/// The same seed always gives the same shop and the same behaviour.
/// </summary>
public sealed class SyntheticShop
{
    private static readonly string[] CategoryNames =
    [
        "headphones", "running shoes", "coffee beans", "board games", "yoga mats", "backpacks", "smartwatches", "tea",
        "desk lamps", "cookware", "sunglasses", "jackets", "keyboards", "books", "plants", "skincare",
        "bicycles", "tents", "toys", "phone cases", "sneakers", "watches", "speakers", "cameras",
    ];

    private static readonly string[] Adjectives = ["Classic", "Pro", "Ultra", "Eco", "Compact", "Premium", "Urban", "Trail", "Smart", "Vintage"];

    private readonly ShopOptions _options;
    private readonly Random _random;
    private readonly double[][] _popularityCdf;
    private readonly UserProfile[] _users;
    private long _eventCounter;

    public SyntheticShop(ShopOptions options)
    {
        options.Validate();
        _options = options;
        _random = new Random(options.Seed);
        Items = CreateItems();
        _popularityCdf = new double[options.Categories][];
        for (var c = 0; c < options.Categories; c++)
        {
            _popularityCdf[c] = ZipfCdf(options.ItemsPerCategory, 1.1);
        }
        _users = Enumerable.Range(0, options.Users).Select(u => new UserProfile(UserId(u), PickFavourites())).ToArray();
    }

    public IReadOnlyList<CatalogueItem> Items { get; }

    public IReadOnlyList<string> UserIds => _users.Select(static u => u.Id).ToArray();

    public static string CategoryName(int category) =>
        category < CategoryNames.Length ? CategoryNames[category] : $"category {category + 1}";

    public static string ItemId(int category, int item) => $"sku-{category:D3}-{item:D4}";

    public static string UserId(int user) => $"user-{user:D5}";

    /// <summary>Sessions from random shoppers, in time order, starting at <paramref name="start"/>, one every <paramref name="sessionGap"/> on average.</summary>
    public IEnumerable<BehaviourEvent> Stream(DateTimeOffset start, TimeSpan sessionGap)
    {
        var clock = start;
        var pending = new List<BehaviourEvent>();
        while (true)
        {
            clock += TimeSpan.FromTicks((long)(sessionGap.Ticks * -Math.Log(1 - _random.NextDouble())));
            pending.AddRange(Session(_users[_random.Next(_users.Length)], clock));
            // Sessions overlap in time; release only what no later session can precede.
            pending.Sort(static (a, b) => a.Timestamp.CompareTo(b.Timestamp));
            var released = 0;
            while (released < pending.Count && pending[released].Timestamp <= clock)
            {
                yield return pending[released++];
            }
            pending.RemoveRange(0, released);
        }
    }

    /// <summary><paramref name="count"/> events of shopping history ending about at <paramref name="end"/>.</summary>
    public IReadOnlyList<BehaviourEvent> History(int count, DateTimeOffset end, TimeSpan span)
    {
        var sessions = Math.Max(1, count / 7);
        var gap = span / sessions;
        var events = Stream(end - span, gap).Take(count).ToList();
        // The session count is an estimate: shift the history so that it never runs past its end.
        var overshoot = events.Count > 0 ? events[^1].Timestamp - end : TimeSpan.Zero;
        return overshoot > TimeSpan.Zero ? events.ConvertAll(e => e with { Timestamp = e.Timestamp - overshoot }) : events;
    }

    private IEnumerable<BehaviourEvent> Session(UserProfile user, DateTimeOffset start)
    {
        // Interests drift: now and then a favourite category gives way to a new one.
        if (_random.NextDouble() < 0.15)
        {
            user.Favourites[_random.Next(user.Favourites.Length)] = _random.Next(_options.Categories);
        }
        var category = user.Favourites[_random.Next(user.Favourites.Length)];
        var time = start;
        var viewed = new List<string>();
        if (_random.NextDouble() < 0.4)
        {
            yield return Event(user, null, BehaviourType.Search, time, CategoryName(category));
            time += Gap();
        }
        var views = _random.Next(2, 9);
        for (var i = 0; i < views; i++)
        {
            // Shoppers browse accessories next door: neighbouring categories co-occur.
            var c = _random.NextDouble() < 0.12 ? (category + 1) % _options.Categories : category;
            var item = ItemId(c, Sample(_popularityCdf[c]));
            viewed.Add(item);
            yield return Event(user, item, BehaviourType.View, time, null);
            time += Gap();
            if (_random.NextDouble() < 0.3)
            {
                yield return Event(user, item, BehaviourType.Click, time, null);
                time += Gap();
            }
        }
        if (_random.NextDouble() < 0.25)
        {
            var item = viewed[_random.Next(viewed.Count)];
            yield return Event(user, item, BehaviourType.Cart, time, null);
            time += Gap();
            if (_random.NextDouble() < 0.5)
            {
                yield return Event(user, item, BehaviourType.Purchase, time, null);
            }
        }
    }

    private BehaviourEvent Event(UserProfile user, string? item, BehaviourType type, DateTimeOffset time, string? query) =>
        new($"{_options.EventIdPrefix}-{_options.Seed}-{_eventCounter++:x}", user.Id, item, type, time, query);

    private TimeSpan Gap() => TimeSpan.FromSeconds(5 + _random.Next(55));

    private int[] PickFavourites() =>
        Enumerable.Range(0, _random.Next(2, 4)).Select(_ => _random.Next(_options.Categories)).ToArray();

    private List<CatalogueItem> CreateItems()
    {
        var items = new List<CatalogueItem>(_options.Categories * _options.ItemsPerCategory);
        for (var c = 0; c < _options.Categories; c++)
        {
            var basePrice = Math.Exp(2 + 3 * _random.NextDouble());
            for (var i = 0; i < _options.ItemsPerCategory; i++)
            {
                var price = Math.Round((decimal)(basePrice * Math.Exp(0.4 * NextGaussian())), 2);
                var title = $"{Adjectives[_random.Next(Adjectives.Length)]} {CategoryName(c)} {i + 1}";
                items.Add(new CatalogueItem(ItemId(c, i), title, CategoryName(c), price, _random.NextDouble() < 0.93));
            }
        }
        return items;
    }

    private int Sample(double[] cdf)
    {
        var index = Array.BinarySearch(cdf, _random.NextDouble());
        return Math.Min(index < 0 ? ~index : index, cdf.Length - 1);
    }

    private double NextGaussian() =>
        Math.Sqrt(-2 * Math.Log(1 - _random.NextDouble())) * Math.Cos(2 * Math.PI * _random.NextDouble());

    private static double[] ZipfCdf(int n, double exponent)
    {
        var cdf = new double[n];
        var sum = 0.0;
        for (var i = 0; i < n; i++)
        {
            sum += 1 / Math.Pow(i + 1, exponent);
            cdf[i] = sum;
        }
        for (var i = 0; i < n; i++)
        {
            cdf[i] /= sum;
        }
        return cdf;
    }

    private sealed class UserProfile(string id, int[] favourites)
    {
        public string Id { get; } = id;
        public int[] Favourites { get; } = favourites;
    }
}
