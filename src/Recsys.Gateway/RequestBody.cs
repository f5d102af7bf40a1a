using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Recsys.Gateway;

/// <summary>Reads a whole JSON request body, within the configured size limit, without copying it.</summary>
public static class RequestBody
{
    /// <summary>
    /// Hands the body to <paramref name="parse"/>; returns the problem to answer with instead when the
    /// body is not JSON or is too large.
    /// </summary>
    public static async Task<(T? Value, IResult? Problem)> ReadJsonAsync<T>(HttpContext context, long limit, Func<ReadOnlySequence<byte>, T> parse)
    {
        var request = context.Request;
        if (!request.HasJsonContentType())
        {
            return (default, Problems.UnsupportedMediaType());
        }
        if (request.ContentLength > limit)
        {
            return (default, Problems.TooLarge($"the body is {request.ContentLength} bytes; the limit is {limit} bytes. Split the batch"));
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = limit;
        }
        var reader = request.BodyReader;
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(context.RequestAborted);
                if (read.IsCompleted)
                {
                    try
                    {
                        return (parse(read.Buffer), null);
                    }
                    finally
                    {
                        reader.AdvanceTo(read.Buffer.End);
                    }
                }
                reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (default, Problems.TooLarge($"the body is larger than the limit of {limit} bytes. Split the batch"));
        }
    }
}
