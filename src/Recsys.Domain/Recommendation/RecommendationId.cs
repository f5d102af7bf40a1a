namespace Recsys.Domain.Recommendation;

/// <summary>
/// The id of one served list: 32 hex digits (a time-ordered GUID), a dot, and the model version that made the
/// list. Carrying the version makes feedback attributable by any process that reads the event, with no lookup
/// table shared between gateways.
/// </summary>
public static class RecommendationId
{
    private const int UniquePartLength = 32;

    /// <summary>Longest accepted id: the unique part, the dot and a model version of up to 128 characters.</summary>
    public const int MaxLength = UniquePartLength + 1 + 128;

    public static string New(string modelVersion) => string.Concat(Guid.CreateVersion7().ToString("N"), ".", modelVersion);

    /// <summary>The model version inside an id this service issued; false for anything else.</summary>
    public static bool TryGetModelVersion(string id, out string modelVersion)
    {
        modelVersion = "";
        if (id.Length <= UniquePartLength + 1 || id.Length > MaxLength || id[UniquePartLength] != '.'
            || !id.AsSpan(0, UniquePartLength).ContainsOnlyHex())
        {
            return false;
        }
        var version = id.AsSpan(UniquePartLength + 1);
        if (version.IsWhiteSpace() || version.ContainsAnyInRange('\0', '\u001f'))
        {
            return false;
        }
        modelVersion = version.ToString();
        return true;
    }

    private static bool ContainsOnlyHex(this ReadOnlySpan<char> span)
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
