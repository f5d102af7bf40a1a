using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Recsys.Contracts;
using Recsys.Domain.Catalogue;
using Recsys.Domain.Events;
using Recsys.Silo;

namespace Recsys.Gateway.Endpoints;

public static class ItemEndpoints
{
    public static RouteGroupBuilder MapItemEndpoints(this RouteGroupBuilder v1)
    {
        v1.MapPost("/items", PostItemsAsync)
            .RequireApiKey()
            .Accepts<ItemRequest[]>("application/json")
            .Produces<ItemsUpsertedResponse>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithName("UpsertItems")
            .WithSummary("Add or update catalogue items")
            .WithDescription("Each item replaces any earlier version with the same itemId. Invalid items are listed as items[i].field; the valid ones are still applied.");

        v1.MapGet("/items/{itemId}/similar", SimilarAsync)
            .Produces<SimilarItemsResponse>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("SimilarItems")
            .WithSummary("Items similar to an item")
            .WithDescription("Query: k (1-100, default 10), category, inStock (default true), minPrice, maxPrice.");
        return v1;
    }

    private static async Task<IResult> PostItemsAsync(HttpContext context, IClusterClient cluster, CatalogueItemValidator validator, GatewayOptions options)
    {
        var errors = new List<FieldError>();
        List<CatalogueItemInput?>? inputs;
        IResult? problem;
        try
        {
            (inputs, problem) = await RequestBody.ReadJsonAsync(context, options.MaxRequestBodyBytes,
                body => BatchReader.ReadItems(body, options.MaxItemsPerRequest, errors));
        }
        catch (MalformedBatchException ex)
        {
            return Problems.BadRequest("Malformed item batch", ex.Message + ". Nothing in this request was applied.");
        }
        if (problem is not null)
        {
            return problem;
        }
        if (inputs!.Count == 0)
        {
            return Problems.BadRequest("Empty item batch", $"the array holds no items; send 1 to {options.MaxItemsPerRequest} items");
        }
        var valid = new List<CatalogueItem>(inputs.Count);
        for (var i = 0; i < inputs.Count; i++)
        {
            if (inputs[i] is { } input && validator.TryValidate(input, $"items[{i}].", out var item, errors))
            {
                valid.Add(item!);
            }
        }
        var upserted = valid.Count > 0 ? await cluster.UpsertItemsAsync(valid, context.RequestAborted) : 0;
        var rejected = inputs.Count - valid.Count;
        if (rejected == 0)
        {
            return TypedResults.Json(new ItemsUpsertedResponse(inputs.Count, upserted, 0), ApiJsonContext.Default.ItemsUpsertedResponse);
        }
        return Problems.Invalid(
            "Some items were rejected",
            $"{rejected} of {inputs.Count} items were rejected (see errors); the other {upserted} were applied.",
            errors,
            new Dictionary<string, object?> { ["received"] = inputs.Count, ["upserted"] = upserted, ["rejected"] = rejected });
    }

    private static async Task<IResult> SimilarAsync(string itemId, HttpContext context, IClusterClient cluster, GatewayOptions options)
    {
        var query = new QueryParameters(context.Request.Query);
        QueryParameters.CheckId(itemId, "itemId", query.Errors);
        var k = query.WholeNumber("k", 10, 1, options.MaxRecommendations);
        var filter = query.Filter(allowIncludeSeen: false);
        if (query.Errors.Count > 0)
        {
            return Problems.Invalid("Invalid request", "fix the listed parameters and retry", query.Errors);
        }
        var similar = await cluster.SimilarAsync(itemId, k, filter, context.RequestAborted);
        return similar is null
            ? Problems.NotFound("Unknown item", $"no catalogue entry and no event names item '{Domain.Identifier.Shorten(itemId)}'")
            : TypedResults.Json(similar, ApiJsonContext.Default.SimilarItemsResponse);
    }
}
