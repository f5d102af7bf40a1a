using System.Security.Cryptography;
using System.Text;

namespace Recsys.Domain.Recommendation;

/// <summary>
/// The id of one served list: 32 hex digits (a time-ordered GUID), a dot, 16 hex digits of signature, a dot, and the
/// model version that made the list. Carrying the version makes feedback attributable by any process that reads the
/// event, with no lookup table shared between gateways; the signature (an HMAC over the rest with the service's
/// secret) makes ids that the service did not issue recognisable, so forged ones cannot skew feedback.
/// </summary>
public sealed class RecommendationId
{
    private const int UniquePartLength = 32;
    private const int TagLength = 16;
    private const int VersionStart = UniquePartLength + 1 + TagLength + 1;

    /// <summary>Longest accepted id: the unique part, the signature, two dots and a model version of up to 128 characters.</summary>
    public const int MaxLength = VersionStart + 128;

    private readonly byte[] _key;

    public RecommendationId(ReadOnlySpan<byte> secret) => _key = SHA256.HashData(secret);

    public string New(string modelVersion)
    {
        var unique = Guid.CreateVersion7().ToString("N");
        return string.Concat(unique, ".", Tag(unique, modelVersion), ".", modelVersion);
    }

    /// <summary>Whether this service (any process with the same secret) issued <paramref name="id"/>.</summary>
    public bool IsAuthentic(string id)
    {
        if (!TryGetModelVersion(id, out var version))
        {
            return false;
        }
        var expected = Tag(id[..UniquePartLength], version);
        return CryptographicOperations.FixedTimeEquals(
            Utf16Bytes(expected), Utf16Bytes(id.AsSpan(UniquePartLength + 1, TagLength)));
    }

    /// <summary>The model version inside an id of this form (whoever signed it); false for anything else.</summary>
    public static bool TryGetModelVersion(string id, out string modelVersion)
    {
        modelVersion = "";
        if (id.Length <= VersionStart || id.Length > MaxLength || id[UniquePartLength] != '.' || id[VersionStart - 1] != '.'
            || !IsHex(id.AsSpan(0, UniquePartLength)) || !IsHex(id.AsSpan(UniquePartLength + 1, TagLength)))
        {
            return false;
        }
        var version = id.AsSpan(VersionStart);
        if (version.IsWhiteSpace() || version.ContainsAnyInRange('\0', '\u001f'))
        {
            return false;
        }
        modelVersion = version.ToString();
        return true;
    }

    private string Tag(string unique, string version)
    {
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(string.Concat(unique, ".", version)), mac);
        return Convert.ToHexStringLower(mac[..(TagLength / 2)]);
    }

    private static ReadOnlySpan<byte> Utf16Bytes(ReadOnlySpan<char> text) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(text);

    private static bool IsHex(ReadOnlySpan<char> span)
    {
        foreach (var c in span)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }
        return true;
    }
}
