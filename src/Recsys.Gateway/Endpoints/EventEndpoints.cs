using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Recsys.Contracts;
using Recsys.Domain.Events;
using Recsys.Silo;

namespace Recsys.Gateway.Endpoints;

public static class EventEndpoints
{
    public static RouteGroupBuilder MapEventEndpoints(this RouteGroupBuilder v1)
    {
        v1.MapPost("/events", PostEventsAsync)
            .RequireScope(ApiScopes.Write)
            .Accepts<EventRequest[]>("application/json")
            .Produces<EventsAcceptedResponse>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithName("PostEvents")
            .WithSummary("Ingest a batch of behaviour events")
            .WithDescription("Valid events are applied to their users' actors, in order per user; a replayed eventId is counted as a duplicate and changes nothing. " +
                             "When some events are invalid the answer is 400 naming each bad field (events[i].field); the valid ones in the batch are still applied, " +
                             "so resending the corrected batch is safe.");
        return v1;
    }

    private static async Task<IResult> PostEventsAsync(HttpContext context, IFrontend cluster, EventValidator validator,
        GatewayOptions options, ILoggerFactory loggers)
    {
        var (batch, problem) = await BatchRequest.ReadAsync<EventInput, BehaviourEvent>(context, options, "event", options.MaxEventsPerRequest,
            BatchReader.ReadEvents, validator.TryValidate);
        if (batch is null)
        {
            return problem!;
        }
        var result = batch.Valid.Count > 0 ? await cluster.IngestAsync(batch.Valid, context.RequestAborted) : new IngestResult(0, 0);
        loggers.CreateLogger("Recsys.Gateway.Events").LogDebug("Event batch: {Accepted} accepted, {Duplicates} duplicates, {Rejected} rejected",
            result.Accepted, result.Duplicates, batch.Rejected);
        if (batch.Rejected == 0)
        {
            return TypedResults.Json(new EventsAcceptedResponse(batch.Received, result.Accepted, result.Duplicates, 0),
                ApiJsonContext.Default.EventsAcceptedResponse, statusCode: StatusCodes.Status202Accepted);
        }
        return BatchRequest.PartiallyApplied(batch, "event",
            $"The other {batch.Valid.Count} were applied ({result.Accepted} new, {result.Duplicates} duplicates, deduplicated by eventId).",
            new Dictionary<string, object?> { ["accepted"] = result.Accepted, ["duplicates"] = result.Duplicates });
    }
}
