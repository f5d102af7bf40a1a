using Recsys.Domain.Catalogue;
using Recsys.Domain.Users;

namespace Recsys.Domain.Recommendation;

/// <summary>Business rules a recommended item must pass.</summary>
public sealed record RecommendationFilter
{
    public static readonly RecommendationFilter Default = new();

    /// <summary>Only items of this category (case-insensitive); null for any.</summary>
    public string? Category { get; init; }

    public bool InStockOnly { get; init; } = true;

    public decimal? MinPrice { get; init; }

    public decimal? MaxPrice { get; init; }

    /// <summary>Whether items the user already viewed or bought may be recommended again.</summary>
    public bool IncludeSeen { get; init; }

    /// <summary>Resolves the filter against a catalogue once per request, so each item check is a few compares.</summary>
    public CompiledFilter Compile(ItemCatalogue catalogue, UserSnapshot user) => new(this, catalogue, user);
}

/// <summary>A filter bound to one catalogue and one user.</summary>
public readonly struct CompiledFilter
{
    private readonly RecommendationFilter _filter;
    private readonly ItemCatalogue _catalogue;
    private readonly UserSnapshot _user;
    private readonly int _category;

    internal CompiledFilter(RecommendationFilter filter, ItemCatalogue catalogue, UserSnapshot user)
    {
        _filter = filter;
        _catalogue = catalogue;
        _user = user;
        _category = filter.Category is null ? ItemCatalogue.NoCategory : catalogue.FindCategory(filter.Category);
        // A category nobody sells matches nothing rather than everything.
        MatchesNothing = filter.Category is not null && _category == ItemCatalogue.NoCategory;
    }

    public bool MatchesNothing { get; }

    /// <summary>The catalogue entry when the item passes, else null. Items not in the catalogue never pass.</summary>
    public CatalogueEntry? Accept(int itemIndex)
    {
        if (MatchesNothing || _catalogue.Get(itemIndex) is not { } entry)
        {
            return null;
        }
        var item = entry.Item;
        if (_filter.Category is not null && entry.CategoryIndex != _category)
        {
            return null;
        }
        if (_filter.InStockOnly && !item.InStock)
        {
            return null;
        }
        if (_filter.MinPrice is { } min && (item.Price is not { } price || price < min))
        {
            return null;
        }
        if (_filter.MaxPrice is { } max && (item.Price is not { } price2 || price2 > max))
        {
            return null;
        }
        if (!_filter.IncludeSeen && _user.HasSeen(itemIndex))
        {
            return null;
        }
        return entry;
    }
}
