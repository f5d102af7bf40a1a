namespace Recsys.Grains;

/// <summary>A user's window as one model version reads it: items as that model's rows, types, seconds; oldest first.</summary>
[GenerateSerializer, Immutable]
public sealed record EncodeRequest(
    [property: Id(0)] string ModelVersion,
    [property: Id(1)] string UserId,
    [property: Id(2)] int[] Items,
    [property: Id(3)] byte[] Types,
    [property: Id(4)] long[] TimestampsSec,
    [property: Id(5)] long StateVersion);

/// <summary>The intent of <see cref="StateVersion"/> of a user's history under a model version.</summary>
[GenerateSerializer, Immutable]
public sealed record EncodedIntent(
    [property: Id(0)] string ModelVersion,
    [property: Id(1)] float[] Vector,
    [property: Id(2)] float? PurchaseIntent,
    [property: Id(3)] long StateVersion);
