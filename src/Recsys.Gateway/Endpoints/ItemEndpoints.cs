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
    public static RouteGroupBuilder MapItemEndpoints(this RouteGroupBuilder v1, bool publicAccess)
    {
        v1.MapPost("/items", PostItemsAsync)
            .RequireScope(ApiScopes.Write)
            .Accepts<ItemRequest[]>("application/json")
            .Produces<ItemsUpsertedResponse>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .WithName("UpsertItems")
            .WithSummary("Add or update catalogue items")
            .WithDescription("Each item replaces any earlier version with the same itemId. Invalid items are listed as items[i].field; the valid ones are still applied.");

        v1.MapGet("/items/{itemId}/similar", SimilarAsync)
            .RequireScope(ApiScopes.Read, publicAccess)
            .Produces<SimilarItemsResponse>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("SimilarItems")
            .WithSummary("Items similar to an item")
            .WithDescription("Query: k (1-100, default 10), category, inStock (default true), minPrice, maxPrice.");
        return v1;
    }

    private static async Task<IResult> PostItemsAsync(HttpContext context, IFrontend cluster, CatalogueItemValidator validator, GatewayOptions options)
    {
        var (batch, problem) = await BatchRequest.ReadAsync<CatalogueItemInput, CatalogueItem>(context, options, "item", options.MaxItemsPerRequest,
            BatchReader.ReadItems, validator.TryValidate);
        if (batch is null)
        {
            return problem!;
        }
        var upserted = batch.Valid.Count > 0 ? await cluster.UpsertItemsAsync(batch.Valid, context.RequestAborted) : 0;
        if (batch.Rejected == 0)
        {
            return TypedResults.Json(new ItemsUpsertedResponse(batch.Received, upserted, 0), ApiJsonContext.Default.ItemsUpsertedResponse);
        }
        return BatchRequest.PartiallyApplied(batch, "item", $"The other {upserted} were applied.",
            new Dictionary<string, object?> { ["upserted"] = upserted });
    }

    private static async Task<IResult> SimilarAsync(string itemId, HttpContext context, IFrontend cluster, GatewayOptions options)
    {
        var (k, filter, problem) = QueryParameters.RecommendationRequest(context, itemId, "itemId", options, allowIncludeSeen: false);
        if (problem is not null)
        {
            return problem;
        }
        var similar = await cluster.SimilarAsync(itemId, k, filter, context.RequestAborted);
        return similar is null
            ? Problems.NotFound("Unknown item", $"no catalogue entry and no event names item '{Domain.Identifier.Shorten(itemId)}'")
            : TypedResults.Json(similar, ApiJsonContext.Default.SimilarItemsResponse);
    }
}
