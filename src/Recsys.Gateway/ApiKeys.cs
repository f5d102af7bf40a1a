using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Recsys.Gateway;

/// <summary>Checks X-Api-Key headers against the configured keys in constant time; never logs or echoes a key.</summary>
public sealed class ApiKeyValidator
{
    public const string HeaderName = "X-Api-Key";

    private readonly byte[][] _keyHashes;

    public ApiKeyValidator(GatewayOptions options) =>
        _keyHashes = options.ApiKeys.Select(static key => SHA256.HashData(Encoding.UTF8.GetBytes(key))).ToArray();

    /// <summary>The index of the matching key (a rate-limit partition that reveals nothing), or -1.</summary>
    public int Match(string? presented)
    {
        if (string.IsNullOrEmpty(presented) || presented.Length > 512)
        {
            return -1;
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
        return match;
    }

    public int Match(HttpContext context) => Match(context.Request.Headers[HeaderName].ToString());
}

/// <summary>Rejects requests to write and admin endpoints without a valid key, as a 401 problem.</summary>
public sealed class RequireApiKeyFilter(ApiKeyValidator validator) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var header = context.HttpContext.Request.Headers[ApiKeyValidator.HeaderName];
        if (header.Count == 0)
        {
            return Problems.Unauthorized($"this endpoint needs an API key in the {ApiKeyValidator.HeaderName} header");
        }
        if (validator.Match(header.ToString()) < 0)
        {
            return Problems.Unauthorized($"the key in the {ApiKeyValidator.HeaderName} header is not valid");
        }
        return await next(context);
    }
}
