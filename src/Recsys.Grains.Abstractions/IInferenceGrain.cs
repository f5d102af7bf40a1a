namespace Recsys.Grains;

/// <summary>
/// Encodes users' histories into intents. A stateless worker on the inference silos (the workers when there are
/// none): concurrent requests from many user grains share one forward pass. Callers spread their requests over
/// <see cref="InferenceKeys"/> keys, since a caller keeps sending one key to the silo it was first placed on.
/// </summary>
public interface IInferenceGrain : IGrainWithIntegerKey
{
    Task<EncodedIntent> EncodeAsync(EncodeRequest request);
}

public static class InferenceKeys
{
    /// <summary>How many inference grain keys user grains spread over.</summary>
    public const int Count = 16;

    public static long For(string userId) => (long)(Domain.Identifier.StableHash64(userId) % Count);
}
