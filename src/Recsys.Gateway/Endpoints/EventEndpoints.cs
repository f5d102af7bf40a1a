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
            .RequireApiKey()
            .Accepts<EventRequest[]>("application/json")
            .Produces<EventsAcceptedResponse>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithName("PostEvents")
            .WithSummary("Ingest a batch of behaviour events")
            .WithDescription("Valid events are applied to their users' actors, in order per user; a replayed eventId is counted as a duplicate and changes nothing. " +
                             "When some events are invalid the answer is 400 naming each bad field (events[i].field); the valid ones in the batch are still applied, " +
                             "so resending the corrected batch is safe.");
        return v1;
    }

    private static async Task<IResult> PostEventsAsync(HttpContext context, IClusterClient cluster, EventValidator validator,
        GatewayOptions options, ILoggerFactory loggers)
    {
        var errors = new List<FieldError>();
        List<EventInput?>? inputs;
        IResult? problem;
        try
        {
            (inputs, problem) = await RequestBody.ReadJsonAsync(context, options.MaxRequestBodyBytes,
                body => BatchReader.ReadEvents(body, options.MaxEventsPerRequest, errors));
        }
        catch (MalformedBatchException ex)
        {
            return Problems.BadRequest("Malformed event batch", ex.Message + ". Nothing in this request was applied.");
        }
        if (problem is not null)
        {
            return problem;
        }
        if (inputs!.Count == 0)
        {
            return Problems.BadRequest("Empty event batch", $"the array holds no events; send 1 to {options.MaxEventsPerRequest} events");
        }

        var valid = new List<BehaviourEvent>(inputs.Count);
        for (var i = 0; i < inputs.Count; i++)
        {
            if (inputs[i] is { } input && validator.TryValidate(input, $"events[{i}].", out var e, errors))
            {
                valid.Add(e!);
            }
        }
        var result = valid.Count > 0 ? await cluster.IngestAsync(valid, context.RequestAborted) : new IngestResult(0, 0);
        var rejected = inputs.Count - valid.Count;
        loggers.CreateLogger("Recsys.Gateway.Events").LogDebug("Event batch: {Accepted} accepted, {Duplicates} duplicates, {Rejected} rejected",
            result.Accepted, result.Duplicates, rejected);
        if (rejected == 0)
        {
            return TypedResults.Json(new EventsAcceptedResponse(inputs.Count, result.Accepted, result.Duplicates, 0),
                ApiJsonContext.Default.EventsAcceptedResponse, statusCode: StatusCodes.Status202Accepted);
        }
        return Problems.Invalid(
            "Some events were rejected",
            $"{rejected} of {inputs.Count} events were rejected (see errors). The other {valid.Count} were applied " +
            $"({result.Accepted} new, {result.Duplicates} duplicates). Fix the rejected events and resend; resending applied events is safe, they are deduplicated by eventId.",
            errors,
            new Dictionary<string, object?>
            {
                ["received"] = inputs.Count,
                ["accepted"] = result.Accepted,
                ["duplicates"] = result.Duplicates,
                ["rejected"] = rejected,
            });
    }
}
