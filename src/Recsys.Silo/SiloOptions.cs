using Recsys.Domain.Recommendation;
using Recsys.Domain.Users;

namespace Recsys.Silo;

/// <summary>Everything a silo can be tuned by; bound from the "Recsys:Silo" configuration section.</summary>
public sealed record SiloOptions
{
    public UserStateOptions Users { get; init; } = new();
    public IdleGrainOptions Grains { get; init; } = new();
    public CoOccurrenceOptions CoOccurrence { get; init; } = new();
    public FallbackRecommenderOptions Recommender { get; init; } = new();
    public Serving.ModelServingOptions Model { get; init; } = new();

    /// <summary>How fast trending popularity fades.</summary>
    public TimeSpan TrendingHalfLife { get; init; } = TimeSpan.FromHours(12);

    /// <summary>How often the trending ranking may be rebuilt while events arrive.</summary>
    public TimeSpan TrendingRefreshInterval { get; init; } = TimeSpan.FromMilliseconds(200);
}
