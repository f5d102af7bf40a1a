using System.Buffers;
using Microsoft.AspNetCore.Http;
using Recsys.Contracts;
using Recsys.Domain.Events;

namespace Recsys.Gateway;

/// <summary>
/// The batch-write rules shared by every endpoint that takes a JSON array: the body is read within the
/// size limit, each element is validated on its own, and the valid ones go on even when others are bad.
/// </summary>
public static class BatchRequest
{
    public delegate List<TInput?> ReadArray<TInput>(ReadOnlySequence<byte> body, int maxCount, List<FieldError> errors);

    public delegate bool Validate<TInput, TValid>(TInput input, string fieldPrefix, out TValid? valid, List<FieldError> errors);

    /// <summary>A read batch: its valid elements, the errors of the rest, and how many arrived in all.</summary>
    public sealed record Batch<TValid>(List<TValid> Valid, List<FieldError> Errors, int Received)
    {
        public int Rejected => Received - Valid.Count;
    }

    /// <summary>The batch, or the problem to answer with when nothing of it can be used.</summary>
    public static async Task<(Batch<TValid>? Batch, IResult? Problem)> ReadAsync<TInput, TValid>(HttpContext context, GatewayOptions options,
        string name, int maxCount, ReadArray<TInput> read, Validate<TInput, TValid> validate)
        where TInput : class
    {
        var errors = new List<FieldError>();
        List<TInput?>? inputs;
        IResult? problem;
        try
        {
            (inputs, problem) = await RequestBody.ReadJsonAsync(context, options.MaxRequestBodyBytes, body => read(body, maxCount, errors));
        }
        catch (MalformedBatchException ex)
        {
            return (null, Problems.BadRequest($"Malformed {name} batch", ex.Message + ". Nothing in this request was applied."));
        }
        if (problem is not null)
        {
            return (null, problem);
        }
        if (inputs!.Count == 0)
        {
            return (null, Problems.BadRequest($"Empty {name} batch", $"the array holds no {name}s; send 1 to {maxCount} {name}s"));
        }
        var valid = new List<TValid>(inputs.Count);
        for (var i = 0; i < inputs.Count; i++)
        {
            if (inputs[i] is { } input && validate(input, $"{name}s[{i}].", out var item, errors))
            {
                valid.Add(item!);
            }
        }
        return (new Batch<TValid>(valid, errors, inputs.Count), null);
    }

    /// <summary>The 400 for a batch with rejected elements: every bad field, and what happened to the rest.</summary>
    public static IResult PartiallyApplied<TValid>(Batch<TValid> batch, string name, string applied, IDictionary<string, object?> counts)
    {
        counts["received"] = batch.Received;
        counts["rejected"] = batch.Rejected;
        return Problems.Invalid(
            $"Some {name}s were rejected",
            $"{batch.Rejected} of {batch.Received} {name}s were rejected (see errors). {applied} " +
            $"Fix the rejected {name}s and resend; resending applied ones is safe.",
            batch.Errors,
            counts);
    }
}
