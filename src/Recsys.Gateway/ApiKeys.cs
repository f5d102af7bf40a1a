using System.Security.Cryptography;
using System.Text;

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

/// <summary>
/// Checks X-Api-Key headers against the configured keys in constant time; never logs or echoes a key. Keys are compared
/// as zero-padded buffers of one size (the longest key's, rounded up), so the time depends on neither a key's bytes nor
/// its length; nothing goes through OpenSSL, whose one-shot SHA-256 per request cost more than the rest of the check.
/// </summary>
public sealed class ApiKeyValidator
{
    public const string HeaderName = "X-Api-Key";
    public const int MaxKeyLength = 512;
    private readonly int _paddedBytes;
    private readonly byte[][] _paddedKeys;
    private readonly int[] _lengths;
    private readonly ApiScopes[] _scopes;

    public ApiKeyValidator(GatewayOptions options)
    {
        _lengths = [.. options.Keys.Select(static key => Encoding.UTF8.GetByteCount(key.Key))];
        _paddedBytes = (_lengths.DefaultIfEmpty(0).Max() + 63) / 64 * 64;
        _paddedKeys = [.. options.Keys.Select(key => Pad(key.Key))];
        _scopes = [.. options.Keys.Select(static key => key.Scopes)];
    }

    public KeyMatch Match(string? presented)
    {
        // Longer than every key: it matches none (and its own length is all the time could tell).
        if (string.IsNullOrEmpty(presented) || presented.Length > MaxKeyLength || Encoding.UTF8.GetByteCount(presented) > _paddedBytes)
        {
            return KeyMatch.None;
        }
        Span<byte> padded = stackalloc byte[_paddedBytes];
        padded.Clear();
        var length = Encoding.UTF8.GetBytes(presented, padded);
        var match = -1;
        for (var i = 0; i < _paddedKeys.Length; i++)
        {
            if (CryptographicOperations.FixedTimeEquals(padded, _paddedKeys[i]) & length == _lengths[i])
            {
                match = i;
            }
        }
        return match < 0 ? KeyMatch.None : new KeyMatch(match, _scopes[match]);
    }

    private byte[] Pad(string key)
    {
        var padded = new byte[_paddedBytes];
        Encoding.UTF8.GetBytes(key, padded);
        return padded;
    }
}
