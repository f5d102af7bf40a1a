namespace Recsys.Domain;

using Recsys.Domain.Events;

/// <summary>The rules every external identifier (event, user, item id) follows.</summary>
public static class Identifier
{
    public static void Check(string? value, string field, int maxLength, List<FieldError> errors)
    {
        if (value is null)
        {
            errors.Add(new(field, "is required"));
        }
        else if (value.Length == 0 || string.IsNullOrWhiteSpace(value))
        {
            errors.Add(new(field, "must not be empty"));
        }
        else if (value.Length > maxLength)
        {
            errors.Add(new(field, $"is {value.Length} characters long; the limit is {maxLength}"));
        }
        else if (value.AsSpan().ContainsAnyInRange('\0', '\u001f'))
        {
            errors.Add(new(field, "must not contain control characters"));
        }
    }

    /// <summary>Cuts a bad value down before echoing it back in an error message.</summary>
    public static string Shorten(string value, int max = 40) =>
        value.Length <= max ? value : string.Concat(value.AsSpan(0, max), "…");

    /// <summary>A stable 64-bit hash (FNV-1a with a murmur finaliser): event-id dedup keys survive restarts and move between processes.</summary>
    public static ulong StableHash64(string value)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in value)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }
        hash ^= hash >> 33;
        hash *= 0xff51afd7ed558ccdUL;
        hash ^= hash >> 33;
        hash *= 0xc4ceb9fe1a85ec53UL;
        hash ^= hash >> 33;
        return hash;
    }
}
