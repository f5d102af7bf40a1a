using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Recsys.Contracts;
using Recsys.Domain.Events;
using Recsys.Silo;
using Recsys.Silo.Serving;

namespace Recsys.Gateway.Endpoints;

/// <summary>The model registry: hot swap, A/B candidates and feedback per model version. Every call needs an API key.</summary>
public static class AdminEndpoints
{
    private const long MaxBodyBytes = 16 * 1024;
    private const int MaxPathLength = 1024;
    private const int MaxPathShown = 200;

    public static RouteGroupBuilder MapAdminEndpoints(this RouteGroupBuilder v1)
    {
        var admin = v1.MapGroup("/admin/models").WithTags("admin");
        admin.MapGet("", GetModelsAsync)
            .RequireScope(ApiScopes.Admin)
            .Produces<ModelsResponse>()
            .WithName("Models")
            .WithSummary("Loaded models and feedback per model version")
            .WithDescription("Feedback counts the lists each version served and the accepted events that carried one of its recommendationIds; " +
                             "clickThroughRate is click events per list, purchaseRate purchase events per list.");

        admin.MapPost("", LoadModelAsync)
            .RequireScope(ApiScopes.Admin)
            .Accepts<ModelLoadRequest>("application/json")
            .Produces<ModelsResponse>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithName("LoadModel")
            .WithSummary("Hot-swap the primary model, or start an A/B test with a candidate")
            .WithDescription("Body: {\"path\": \"games-v2.rsm\", \"role\": \"primary|candidate\", \"share\": 0.1}. The checkpoint is loaded and its " +
                             "catalogue shards built before an atomic switch, so requests never fail or see half a model; intents made by the previous " +
                             "model are recomputed when each user next asks. A candidate serves a stable share of users, chosen by a hash of the user id.");

        admin.MapPost("/candidate/promote", (IFrontend cluster, HttpContext context) => EndCandidateAsync(cluster, context, promote: true))
            .RequireScope(ApiScopes.Admin)
            .Produces<ModelsResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("PromoteCandidate")
            .WithSummary("End the A/B test: the candidate becomes the primary for every user");

        admin.MapDelete("/candidate", (IFrontend cluster, HttpContext context) => EndCandidateAsync(cluster, context, promote: false))
            .RequireScope(ApiScopes.Admin)
            .Produces<ModelsResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("DropCandidate")
            .WithSummary("End the A/B test: every user goes back to the primary");
        return v1;
    }

    private static async Task<IResult> GetModelsAsync(IFrontend cluster, HttpContext context) =>
        TypedResults.Json(await cluster.GetModelsAsync(context.RequestAborted), ApiJsonContext.Default.ModelsResponse);

    private static async Task<IResult> LoadModelAsync(HttpContext context, IFrontend cluster)
    {
        var (request, problem) = await RequestBody.ReadJsonAsync(context, MaxBodyBytes, Parse);
        if (problem is not null)
        {
            return problem;
        }
        if (request.Value is null)
        {
            return Problems.BadRequest("Invalid request", $"the body is not a JSON object of path, role and share: {request.Error ?? "it is null"}");
        }
        var (path, role, share, errors) = Validate(request.Value);
        if (errors.Count > 0)
        {
            return Problems.Invalid("Invalid request", "fix the listed fields and retry; nothing was loaded", errors);
        }
        try
        {
            return TypedResults.Json(await cluster.LoadModelAsync(path, role, share, context.RequestAborted), ApiJsonContext.Default.ModelsResponse);
        }
        catch (ModelFileException ex)
        {
            return Problems.Invalid("Invalid request", "nothing was loaded", [new FieldError("path", ex.Message)]);
        }
        catch (ArgumentException ex)
        {
            return Problems.Invalid("Invalid request", "nothing was loaded", [new FieldError(ex.ParamName ?? "path", FirstSentence(ex.Message))]);
        }
        catch (InvalidDataException ex)
        {
            return TypedResults.Problem(
                $"'{Domain.Identifier.Shorten(path, MaxPathShown)}' is not a usable model checkpoint: {ex.Message}. Nothing was loaded; "
                + "the current models keep serving",
                statusCode: StatusCodes.Status422UnprocessableEntity, title: "Invalid checkpoint");
        }
        catch (ModelConflictException ex)
        {
            return TypedResults.Problem(ex.Message + ". Nothing was loaded", statusCode: StatusCodes.Status409Conflict, title: "Conflict");
        }
    }

    private static async Task<IResult> EndCandidateAsync(IFrontend cluster, HttpContext context, bool promote)
    {
        if (!await cluster.EndCandidateAsync(promote, context.RequestAborted))
        {
            return Problems.NotFound("No candidate", "no A/B candidate is loaded; POST /v1/admin/models with role candidate starts a test");
        }
        return await GetModelsAsync(cluster, context);
    }

    private static (ModelLoadRequest? Value, string? Error) Parse(ReadOnlySequence<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            return (JsonSerializer.Deserialize(ref reader, ApiJsonContext.Default.ModelLoadRequest), null);
        }
        catch (JsonException ex)
        {
            return (null, ex.Path is { Length: > 1 } at ? $"{at.TrimStart('$', '.')} has the wrong type or the JSON is broken" : "not valid JSON");
        }
    }

    private static (string Path, ModelRole Role, double Share, List<FieldError> Errors) Validate(ModelLoadRequest request)
    {
        var errors = new List<FieldError>();
        if (string.IsNullOrWhiteSpace(request.Path))
        {
            errors.Add(new("path", "is required: the checkpoint file to load (from recsys train), named inside the model folder"));
        }
        else if (request.Path.Length > MaxPathLength)
        {
            errors.Add(new("path", $"is {request.Path.Length} characters long; the limit is {MaxPathLength}"));
        }
        else if (request.Path.AsSpan().ContainsAnyInRange('\0', '\u001f'))
        {
            errors.Add(new("path", "must not contain control characters"));
        }
        ModelRole? parsed = request.Role?.ToLowerInvariant() switch
        {
            null or "primary" => ModelRole.Primary,
            "candidate" => ModelRole.Candidate,
            _ => null,
        };
        if (parsed is not { } role)
        {
            errors.Add(new("role", $"'{Domain.Identifier.Shorten(request.Role!)}' is not a role; expected primary or candidate"));
            role = ModelRole.Primary;
        }
        var share = request.Share ?? 0;
        if (role == ModelRole.Candidate && request.Share is not (> 0 and < 1))
        {
            errors.Add(new("share", request.Share is null
                ? "is required for a candidate: the fraction of users it serves, above 0 and below 1 (e.g. 0.1)"
                : $"{request.Share} is not above 0 and below 1"));
        }
        else if (role == ModelRole.Primary && request.Share is not null)
        {
            errors.Add(new("share", "applies to a candidate only; the primary serves every user the candidate does not"));
        }
        return (request.Path ?? "", role, share, errors);
    }

    private static string FirstSentence(string message) =>
        message.Split(" (Parameter", 2)[0];
}
