using Recsys.Domain.Catalogue;
using Recsys.Domain.Recommendation;
using Recsys.Domain.Users;
using Recsys.Model.Serving;

namespace Recsys.Silo;

/// <summary>What every user grain, shard and inference worker of a silo shares: one per silo.</summary>
public sealed class SiloServices(
    ItemCatalogue catalogue,
    TrendingIndex trending,
    CoOccurrenceIndex coOccurrence,
    UserStateOptions userOptions,
    Serving.ModelServing serving,
    FallbackRecommender recommender,
    TimeProvider clock) : IAsyncDisposable
{
    public ItemCatalogue Catalogue => catalogue;
    public TrendingIndex Trending => trending;
    public CoOccurrenceIndex CoOccurrence => coOccurrence;
    public UserStateOptions UserOptions => userOptions;
    public Serving.ModelServing Serving => serving;
    public FallbackRecommender Recommender => recommender;
    public TimeProvider Clock => clock;
    public UserStateCodec Codec { get; } = new(catalogue.Items, userOptions, clock);

    public ValueTask DisposeAsync() => serving.DisposeAsync();

    /// <summary>A silo's catalogue, rankings and model serving as <paramref name="options"/> say; loads the start-up model.</summary>
    public static SiloServices Create(SiloOptions options, TimeProvider clock)
    {
        var catalogue = new ItemCatalogue(new ItemRegistry());
        var trending = new TrendingIndex(options.TrendingHalfLife, clock) { RefreshInterval = options.TrendingRefreshInterval };
        var coOccurrence = new CoOccurrenceIndex(options.CoOccurrence);
        var serving = new Serving.ModelServing(catalogue, options.Model);
        if (options.Model.Path is { } path)
        {
            serving.Activate(ServingModel.Load(path));
        }
        var recommender = new FallbackRecommender(catalogue, trending, coOccurrence, options.Recommender);
        return new SiloServices(catalogue, trending, coOccurrence, options.Users, serving, recommender, clock);
    }
}
