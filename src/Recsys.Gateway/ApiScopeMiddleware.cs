using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Http;

namespace Recsys.Gateway;

/// <summary>Which scope an endpoint needs, and whether keyless requests may use it (a public demo's recommendations).</summary>
public sealed record RequiredScope(ApiScopes Scope, bool PublicAccess);

/// <summary>
/// Checks the key of every endpoint that carries <see cref="RequiredScope"/> (401 without a valid key, 403 with one that
/// lacks the scope) and applies the key's rate limit for reads (GET) or writes (429 with Retry-After). One middleware
/// reading endpoint metadata, as ASP.NET's authorisation does: cheaper on the read path than a filter per endpoint.
/// </summary>
public sealed class ApiScopeMiddleware(RequestDelegate next, ApiKeyValidator validator, GatewayOptions options)
{
    private const int MaxAddressBuckets = 10_000;
    private readonly TokenBucket[] _readBuckets = [.. options.Keys.Select(_ => new TokenBucket(options.ReadRequestsPerSecond, options.ReadBurst))];
    private readonly TokenBucket[] _writeBuckets = [.. options.Keys.Select(_ => new TokenBucket(options.WriteRequestsPerSecond, options.WriteBurst))];
    private readonly ConcurrentDictionary<IPAddress, TokenBucket> _addressBuckets = new();

    /// <summary>Not async: a request that passes goes on as the next middleware's own task, with no state machine of ours.</summary>
    public Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<RequiredScope>() is not { } required)
        {
            return next(context);
        }
        var reads = HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method);
        TokenBucket bucket;
        var header = context.Request.Headers[ApiKeyValidator.HeaderName];
        if (header.Count == 0 && required.PublicAccess)
        {
            bucket = AddressBucket(context.Connection.RemoteIpAddress ?? IPAddress.None);
        }
        else if (header.Count == 0)
        {
            return Problems.Unauthorized(
                $"this endpoint needs an API key with the {Describe(required.Scope)} scope in the {ApiKeyValidator.HeaderName} header").ExecuteAsync(context);
        }
        else if (validator.Match(header.ToString()) is not { IsValid: true } key)
        {
            return Problems.Unauthorized($"the key in the {ApiKeyValidator.HeaderName} header is not valid").ExecuteAsync(context);
        }
        else if ((key.Scopes & required.Scope) == 0)
        {
            return Problems.Forbidden($"this key has the scopes {Describe(key.Scopes)}; this endpoint needs {Describe(required.Scope)}")
                .ExecuteAsync(context);
        }
        else
        {
            bucket = (reads ? _readBuckets : _writeBuckets)[key.Index];
        }
        if (!bucket.TryTake(out var retryAfter))
        {
            var limit = reads ? options.ReadRequestsPerSecond : options.WriteRequestsPerSecond;
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return TypedResults.Problem(
                    $"this API key sent more than {limit} {(reads ? "read" : "write")} requests per second; retry after the Retry-After header's seconds",
                    statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests")
                .ExecuteAsync(context);
        }
        return next(context);
    }

    private TokenBucket AddressBucket(IPAddress address)
    {
        if (_addressBuckets.Count >= MaxAddressBuckets)
        {
            _addressBuckets.Clear(); // many addresses at once: start them over rather than grow without bound
        }
        return _addressBuckets.GetOrAdd(address, _ => new TokenBucket(options.ReadRequestsPerSecond, options.ReadBurst));
    }

    private static string Describe(ApiScopes scopes) => scopes.ToString().ToLowerInvariant();
}
