namespace Recsys.Gateway;

/// <summary>The gateway's limits and keys; bound from the "Recsys:Gateway" configuration section.</summary>
public sealed record GatewayOptions
{
    /// <summary>Keys accepted in the X-Api-Key header by write and admin endpoints.</summary>
    public IReadOnlyList<string> ApiKeys { get; init; } = [];

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
        if (WriteRequestsPerSecond < 1 || WriteBurst < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(WriteRequestsPerSecond), "rate limits must be at least 1");
        }
        if (ApiKeys.Any(static key => key.Length < 16))
        {
            throw new ArgumentException("API keys must be at least 16 characters long", nameof(ApiKeys));
        }
    }
}
