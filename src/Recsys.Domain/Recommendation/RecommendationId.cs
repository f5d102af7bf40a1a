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

    [ThreadStatic]
    private static IncrementalHash? t_hmac;

    [ThreadStatic]
    private static byte[]? t_hmacKey;

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
        var expected = Tag(id.AsSpan(0, UniquePartLength), version);
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

    private string Tag(ReadOnlySpan<char> unique, string version)
    {
        // On the stack: every served list is signed (a version is short; a long one goes to the heap).
        var size = UniquePartLength + 1 + Encoding.UTF8.GetMaxByteCount(version.Length);
        Span<byte> message = size <= 512 ? stackalloc byte[512] : new byte[size];
        var length = Encoding.UTF8.GetBytes(unique, message);
        message[length++] = (byte)'.';
        length += Encoding.UTF8.GetBytes(version, message[length..]);
        // One HMAC per thread, reused: a one-shot HMAC fetches the algorithm from OpenSSL on every call.
        var hmac = t_hmac is { } cached && ReferenceEquals(t_hmacKey, _key) ? cached : NewHmac();
        hmac.AppendData(message[..length]);
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        hmac.GetHashAndReset(mac);
        return Convert.ToHexStringLower(mac[..(TagLength / 2)]);
    }

    private IncrementalHash NewHmac()
    {
        t_hmac?.Dispose();
        t_hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key);
        t_hmacKey = _key;
        return t_hmac;
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
