using Recsys.Silo;

namespace Recsys.Grains;

/// <summary>
/// References to our grains without Orleans' lookup per call: in 10.4.2, <c>GetGrain&lt;T&gt;(key)</c> formats and
/// parses the interface's type name every time, and those strings were the largest share of what a recommendation
/// allocated (bench/README.md). The interface and grain types are taken once from a first reference; the shard and
/// inference grains, a fixed few keys, are kept.
/// </summary>
public sealed class GrainReferences(IGrainFactory grains, SiloServices services)
{
    private (GrainType Grain, GrainInterfaceType Interface)? _userTypes;
    private readonly IInferenceGrain?[] _inference = new IInferenceGrain?[InferenceKeys.Count];
    private ICatalogueShardGrain?[] _shards = [];

    public IUserGrain User(string userId)
    {
        var (grain, face) = _userTypes ??= TypesOf(grains.GetGrain<IUserGrain>(userId));
        return (IUserGrain)grains.GetGrain(GrainId.Create(grain, IdSpan.Create(userId)), face);
    }

    public IInferenceGrain Inference(long key) => _inference[key] ??= grains.GetGrain<IInferenceGrain>(key);

    public ICatalogueShardGrain Shard(int index)
    {
        var shards = _shards;
        if (index >= shards.Length)
        {
            // Benign race: two threads may each build an array; either holds valid references.
            shards = _shards = new ICatalogueShardGrain?[Math.Max(index + 1, services.Serving.Shards.Shards.Count)];
        }
        return shards[index] ??= grains.GetGrain<ICatalogueShardGrain>(index);
    }

    private static (GrainType, GrainInterfaceType) TypesOf(IAddressable reference)
    {
        var typed = (GrainReference)reference;
        return (typed.GrainId.Type, typed.InterfaceType);
    }
}
