using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Recsys.Contracts;
using Recsys.Silo;

namespace Recsys.Gateway.Endpoints;

public static class UserEndpoints
{
    public static RouteGroupBuilder MapUserEndpoints(this RouteGroupBuilder v1, bool publicRecommendations)
    {
        v1.MapGet("/users/{userId}/recommendations", RecommendAsync)
            .RequireScope(ApiScopes.Read, publicRecommendations)
            .Produces<RecommendationsResponse>()
            .ProducesValidationProblem()
            .WithName("Recommendations")
            .WithSummary("What this user should see now")
            .WithDescription("Query: k (1-100, default 10), category, inStock (default true), minPrice, maxPrice, includeSeen (default false). " +
                             "Users with no history get trending items.");

        v1.MapGet("/users/{userId}", GetUserAsync)
            .RequireScope(ApiScopes.Read)
            .Produces<UserProfileResponse>()
            .ProducesValidationProblem()
            .WithName("User")
            .WithSummary("A user's recent behaviour and inferred intent")
            .WithDescription("Query: recent (how many recent behaviours, newest first; default 50).");

        v1.MapGet("/users/{userId}/export", ExportAsync)
            .RequireScope(ApiScopes.Read)
            .Produces<UserExportResponse>()
            .ProducesValidationProblem()
            .WithName("ExportUser")
            .WithSummary("Everything the service keeps about a user (a data subject's access request)");

        v1.MapDelete("/users/{userId}", EraseAsync)
            .RequireScope(ApiScopes.Write)
            .Produces<UserErasedResponse>()
            .ProducesValidationProblem()
            .WithName("EraseUser")
            .WithSummary("Erase a user everywhere the service keeps them; later events start a fresh history")
            .WithDescription("Removes the user's grain, stored record, cached intent and dedup ids, and answers what was removed. " +
                             "Trending and co-occurrence keep item counts only, with no user in them.");
        return v1;
    }

    private static Task<IResult> ExportAsync(string userId, HttpContext context, IFrontend cluster) =>
        ForValidUserAsync(userId, async () =>
            TypedResults.Json(await cluster.ExportUserAsync(userId, context.RequestAborted), ApiJsonContext.Default.UserExportResponse));

    private static Task<IResult> EraseAsync(string userId, HttpContext context, IFrontend cluster) =>
        ForValidUserAsync(userId, async () =>
            TypedResults.Json(await cluster.EraseUserAsync(userId, context.RequestAborted), ApiJsonContext.Default.UserErasedResponse));

    private static async Task<IResult> ForValidUserAsync(string userId, Func<Task<IResult>> answer)
    {
        var errors = new List<Domain.Events.FieldError>();
        QueryParameters.CheckId(userId, "userId", errors);
        return errors.Count > 0 ? Problems.Invalid("Invalid request", "fix the user id and retry", errors) : await answer();
    }

    private static async Task<IResult> RecommendAsync(string userId, HttpContext context, IFrontend cluster, GatewayOptions options)
    {
        var (k, filter, problem) = QueryParameters.RecommendationRequest(context, userId, "userId", options, allowIncludeSeen: true);
        if (problem is not null)
        {
            return problem;
        }
        var response = await cluster.RecommendAsync(userId, k, filter, context.RequestAborted);
        return TypedResults.Json(response, ApiJsonContext.Default.RecommendationsResponse);
    }

    private static async Task<IResult> GetUserAsync(string userId, HttpContext context, IFrontend cluster, GatewayOptions options)
    {
        var query = new QueryParameters(context.Request.Query);
        QueryParameters.CheckId(userId, "userId", query.Errors);
        var recent = query.WholeNumber("recent", 50, 0, options.MaxRecentBehaviours);
        if (query.Errors.Count > 0)
        {
            return Problems.Invalid("Invalid request", "fix the listed parameters and retry", query.Errors);
        }
        var profile = await cluster.GetUserAsync(userId, recent, context.RequestAborted);
        return TypedResults.Json(profile, ApiJsonContext.Default.UserProfileResponse);
    }
}
