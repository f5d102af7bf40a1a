using Recsys.Domain.Recommendation;

namespace Recsys.Grains;

// The domain stays free of Orleans: its filter crosses grain calls through this surrogate.

[GenerateSerializer]
public struct RecommendationFilterSurrogate
{
    [Id(0)] public string? Category { get; set; }
    [Id(1)] public bool InStockOnly { get; set; }
    [Id(2)] public decimal? MinPrice { get; set; }
    [Id(3)] public decimal? MaxPrice { get; set; }
    [Id(4)] public bool IncludeSeen { get; set; }
}

[RegisterConverter]
public sealed class RecommendationFilterConverter : IConverter<RecommendationFilter, RecommendationFilterSurrogate>
{
    public RecommendationFilter ConvertFromSurrogate(in RecommendationFilterSurrogate surrogate) => new()
    {
        Category = surrogate.Category,
        InStockOnly = surrogate.InStockOnly,
        MinPrice = surrogate.MinPrice,
        MaxPrice = surrogate.MaxPrice,
        IncludeSeen = surrogate.IncludeSeen,
    };

    public RecommendationFilterSurrogate ConvertToSurrogate(in RecommendationFilter value) => new()
    {
        Category = value.Category,
        InStockOnly = value.InStockOnly,
        MinPrice = value.MinPrice,
        MaxPrice = value.MaxPrice,
        IncludeSeen = value.IncludeSeen,
    };
}
