using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Recsys.Gateway;

/// <summary>What a key may do: storefront back ends read, event pipelines write, operators administer.</summary>
[Flags]
public enum ApiScopes
{
    None = 0,
    Read = 1,
    Write = 2,
    Admin = 4,
    All = Read | Write | Admin,
}

/// <summary>One configured key (<c>Recsys:Gateway:Keys:N:Key</c> and <c>:Scopes</c>, e.g. "Read" or "Read, Write").</summary>
public sealed record ApiKey
{
    public string Key { get; init; } = "";

    public ApiScopes Scopes { get; init; } = ApiScopes.Read;
}

/// <summary>The key a request presented, if any matched: its index is a rate-limit partition that reveals nothing.</summary>
public readonly record struct KeyMatch(int Index, ApiScopes Scopes)
{
    public static readonly KeyMatch None = new(-1, ApiScopes.None);

    public bool IsValid => Index >= 0;
}

/// <summary>Checks X-Api-Key headers against the configured keys in constant time; never logs or echoes a key.</summary>
public sealed class ApiKeyValidator
{
    public const string HeaderName = "X-Api-Key";

    private readonly byte[][] _keyHashes;
    private readonly ApiScopes[] _scopes;

    public ApiKeyValidator(GatewayOptions options)
    {
        _keyHashes = [.. options.Keys.Select(static key => SHA256.HashData(Encoding.UTF8.GetBytes(key.Key)))];
        _scopes = [.. options.Keys.Select(static key => key.Scopes)];
    }

    public KeyMatch Match(string? presented)
    {
        if (string.IsNullOrEmpty(presented) || presented.Length > 512)
        {
            return KeyMatch.None;
        }
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        var match = -1;
        for (var i = 0; i < _keyHashes.Length; i++)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, _keyHashes[i]))
            {
                match = i;
            }
        }
        return match < 0 ? KeyMatch.None : new KeyMatch(match, _scopes[match]);
    }

    /// <summary>The request's key, matched once per request and kept on the context (the filter and the limiter both ask).</summary>
    public KeyMatch Match(HttpContext context)
    {
        if (context.Items.TryGetValue(typeof(KeyMatch), out var cached) && cached is KeyMatch known)
        {
            return known;
        }
        var match = Match(context.Request.Headers[HeaderName].ToString());
        context.Items[typeof(KeyMatch)] = match;
        return match;
    }
}

/// <summary>
/// Rejects requests without a key of <paramref name="scope"/>: 401 without a valid key, 403 with a key that lacks it.
/// <paramref name="publicAccess"/> lets keyless requests through (recommendations for a public demo).
/// </summary>
public sealed class RequireScopeFilter(ApiKeyValidator validator, ApiScopes scope, bool publicAccess) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (http.Request.Headers[ApiKeyValidator.HeaderName].Count == 0)
        {
            return publicAccess ? await next(context)
                : Problems.Unauthorized($"this endpoint needs an API key with the {Describe(scope)} scope in the {ApiKeyValidator.HeaderName} header");
        }
        var key = validator.Match(http);
        if (!key.IsValid)
        {
            return Problems.Unauthorized($"the key in the {ApiKeyValidator.HeaderName} header is not valid");
        }
        if ((key.Scopes & scope) == 0)
        {
            return Problems.Forbidden($"this key has the scopes {Describe(key.Scopes)}; this endpoint needs {Describe(scope)}");
        }
        return await next(context);
    }

    private static string Describe(ApiScopes scopes) => scopes.ToString().ToLowerInvariant();
}
