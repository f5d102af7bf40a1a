namespace Recsys.Gateway;

/// <summary>The gateway's limits and keys; bound from the "Recsys:Gateway" configuration section.</summary>
public sealed record GatewayOptions
{
    /// <summary>Keys accepted in the X-Api-Key header, each with its scopes; every /v1 endpoint needs one.</summary>
    public IReadOnlyList<ApiKey> Keys { get; init; } = [];

    /// <summary>Recommendations and similar items answer requests without a key too (a public demo); user data never does.</summary>
    public bool PublicRecommendations { get; init; }

    /// <summary>Read requests each key (or, keyless, each client address) may make per second, sustained.</summary>
    public int ReadRequestsPerSecond { get; init; } = 50_000;

    /// <summary>Read requests a key may burst above the sustained rate.</summary>
    public int ReadBurst { get; init; } = 100_000;

    /// <summary>
    /// Signs recommendation ids so that feedback events cannot carry forged ones; every gateway of a cluster needs the
    /// same. Unset, it is derived from the keys (then a key change invalidates the ids already served).
    /// </summary>
    public string? RecommendationIdSecret { get; init; }

    public int MaxEventsPerRequest { get; init; } = 1000;

    public int MaxItemsPerRequest { get; init; } = 10_000;

    public long MaxRequestBodyBytes { get; init; } = 8 * 1024 * 1024;

    public int MaxRecommendations { get; init; } = 100;

    public int MaxRecentBehaviours { get; init; } = 1000;

    /// <summary>Write requests each API key may make per second, sustained.</summary>
    public int WriteRequestsPerSecond { get; init; } = 2000;

    /// <summary>Write requests an API key may burst above the sustained rate.</summary>
    public int WriteBurst { get; init; } = 4000;

    public void Validate()
    {
        if (MaxEventsPerRequest < 1 || MaxItemsPerRequest < 1 || MaxRecommendations < 1 || MaxRecentBehaviours < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxEventsPerRequest), "request limits must be at least 1");
        }
        if (MaxRequestBodyBytes < 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRequestBodyBytes), MaxRequestBodyBytes, "the body limit must be at least 1024 bytes");
        }
        if (WriteRequestsPerSecond < 1 || WriteBurst < 1 || ReadRequestsPerSecond < 1 || ReadBurst < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(WriteRequestsPerSecond), "rate limits must be at least 1");
        }
        if (Keys.Any(static key => key.Key.Length is < 16 or > ApiKeyValidator.MaxKeyLength))
        {
            throw new ArgumentException($"API keys must be 16 to {ApiKeyValidator.MaxKeyLength} characters long", nameof(Keys));
        }
        if (Keys.Any(static key => key.Scopes == ApiScopes.None || (key.Scopes & ~ApiScopes.All) != 0))
        {
            throw new ArgumentException("every API key needs scopes: read, write, admin or a comma list of them", nameof(Keys));
        }
        if (RecommendationIdSecret is { Length: < 32 })
        {
            throw new ArgumentException("the recommendation id secret must be at least 32 characters long", nameof(RecommendationIdSecret));
        }
    }
}
