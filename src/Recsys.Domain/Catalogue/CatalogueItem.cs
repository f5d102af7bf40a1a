namespace Recsys.Domain.Catalogue;

/// <summary>A sellable item as the shop describes it. Price is null when the shop has not given one.</summary>
public sealed record CatalogueItem(string ItemId, string? Title, string? Category, decimal? Price, bool InStock)
{
    /// <summary>The name to show a person: the title when there is one.</summary>
    public string DisplayName => string.IsNullOrWhiteSpace(Title) ? ItemId : Title;
}

/// <summary>A catalogue item as it arrived, before validation.</summary>
public sealed record CatalogueItemInput(string? ItemId, string? Title, string? Category, decimal? Price, bool? InStock);

public sealed class CatalogueItemValidator
{
    public const int MaxTitleLength = 512;
    public const int MaxCategoryLength = 128;

    private readonly int _maxIdLength;

    public CatalogueItemValidator(int maxIdLength = Events.EventValidationOptions.DefaultMaxIdLength) => _maxIdLength = maxIdLength;

    public bool TryValidate(CatalogueItemInput input, string fieldPrefix, out CatalogueItem? item, List<Events.FieldError> errors)
    {
        var before = errors.Count;
        Identifier.Check(input.ItemId, fieldPrefix + "itemId", _maxIdLength, errors);
        if (input.Title is { Length: > MaxTitleLength })
        {
            errors.Add(new(fieldPrefix + "title", $"is {input.Title.Length} characters long; the limit is {MaxTitleLength}"));
        }
        if (input.Category is not null)
        {
            Identifier.Check(input.Category, fieldPrefix + "category", MaxCategoryLength, errors);
        }
        if (input.Price is < 0)
        {
            errors.Add(new(fieldPrefix + "price", $"{input.Price} is negative; a price must be 0 or more"));
        }
        if (errors.Count > before)
        {
            item = null;
            return false;
        }
        item = new CatalogueItem(input.ItemId!, input.Title, input.Category, input.Price, input.InStock ?? true);
        return true;
    }
}
