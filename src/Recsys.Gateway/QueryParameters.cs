using System.Globalization;
using Microsoft.AspNetCore.Http;
using Recsys.Domain;
using Recsys.Domain.Catalogue;
using Recsys.Domain.Events;
using Recsys.Domain.Recommendation;

namespace Recsys.Gateway;

/// <summary>Reads query-string and route parameters with errors that name the parameter and the problem.</summary>
public sealed class QueryParameters(IQueryCollection query)
{
    public List<FieldError> Errors { get; } = [];

    public int WholeNumber(string name, int defaultValue, int min, int max)
    {
        var raw = query[name].ToString();
        if (raw.Length == 0)
        {
            return defaultValue;
        }
        if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            Errors.Add(new(name, $"must be a whole number from {min} to {max}; got '{Identifier.Shorten(raw)}'"));
            return defaultValue;
        }
        return value;
    }

    public bool Flag(string name, bool defaultValue)
    {
        var raw = query[name].ToString();
        if (raw.Length == 0)
        {
            return defaultValue;
        }
        if (!bool.TryParse(raw, out var value))
        {
            Errors.Add(new(name, $"must be true or false; got '{Identifier.Shorten(raw)}'"));
            return defaultValue;
        }
        return value;
    }

    public decimal? Price(string name)
    {
        var raw = query[name].ToString();
        if (raw.Length == 0)
        {
            return null;
        }
        if (!decimal.TryParse(raw, NumberStyles.Number, CultureInfo.InvariantCulture, out var value) || value < 0)
        {
            Errors.Add(new(name, $"must be a price of 0 or more, like 19.99; got '{Identifier.Shorten(raw)}'"));
            return null;
        }
        return value;
    }

    public string? Text(string name, int maxLength)
    {
        var raw = query[name].ToString();
        if (raw.Length == 0)
        {
            return null;
        }
        Identifier.Check(raw, name, maxLength, Errors);
        return raw;
    }

    /// <summary>The recommendation filter parameters: category, inStock, minPrice, maxPrice and (for users) includeSeen.</summary>
    public RecommendationFilter Filter(bool allowIncludeSeen)
    {
        var filter = new RecommendationFilter
        {
            Category = Text("category", CatalogueItemValidator.MaxCategoryLength),
            InStockOnly = Flag("inStock", true),
            MinPrice = Price("minPrice"),
            MaxPrice = Price("maxPrice"),
            IncludeSeen = allowIncludeSeen && Flag("includeSeen", false),
        };
        if (filter.MinPrice > filter.MaxPrice)
        {
            Errors.Add(new("minPrice", $"{filter.MinPrice} is above maxPrice {filter.MaxPrice}"));
        }
        return filter;
    }

    public static void CheckId(string value, string name, List<FieldError> errors) =>
        Identifier.Check(value, name, EventValidationOptions.DefaultMaxIdLength, errors);

    /// <summary>
    /// A recommendation request's path id, <c>k</c> and filter, or the 400 naming every bad parameter:
    /// the same rules for users' recommendations and similar items.
    /// </summary>
    public static (int K, RecommendationFilter Filter, IResult? Problem) RecommendationRequest(
        HttpContext context, string id, string idName, GatewayOptions options, bool allowIncludeSeen)
    {
        var query = new QueryParameters(context.Request.Query);
        CheckId(id, idName, query.Errors);
        var k = query.WholeNumber("k", 10, 1, options.MaxRecommendations);
        var filter = query.Filter(allowIncludeSeen);
        var problem = query.Errors.Count > 0 ? Problems.Invalid("Invalid request", "fix the listed parameters and retry", query.Errors) : null;
        return (k, filter, problem);
    }
}
