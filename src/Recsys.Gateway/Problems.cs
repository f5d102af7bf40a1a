using Microsoft.AspNetCore.Http;
using Recsys.Domain.Events;

namespace Recsys.Gateway;

/// <summary>RFC 7807 problem details worded so that a person can act on them.</summary>
public static class Problems
{
    public static IResult Unauthorized(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status401Unauthorized, title: "API key required");

    public static IResult Forbidden(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status403Forbidden, title: "Scope missing");

    public static IResult BadRequest(string title, string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: title);

    public static IResult TooLarge(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status413PayloadTooLarge, title: "Request body too large");

    public static IResult UnsupportedMediaType() =>
        TypedResults.Problem("send the body as JSON with the header Content-Type: application/json",
            statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type");

    public static IResult NotFound(string title, string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: title);

    /// <summary>A 400 that lists every bad field, with extension members for what happened to the rest.</summary>
    public static IResult Invalid(string title, string detail, IEnumerable<FieldError> errors, IDictionary<string, object?>? extensions = null) =>
        TypedResults.ValidationProblem(Group(errors), detail, title: title, extensions: extensions);

    public static Dictionary<string, string[]> Group(IEnumerable<FieldError> errors) =>
        errors.GroupBy(static e => e.Field, StringComparer.Ordinal)
            .ToDictionary(static g => g.Key, static g => g.Select(static e => e.Message).ToArray(), StringComparer.Ordinal);
}
