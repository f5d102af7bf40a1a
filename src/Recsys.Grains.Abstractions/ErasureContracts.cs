namespace Recsys.Grains;

/// <summary>What an erasure removed from a user's grain and its stored record.</summary>
[GenerateSerializer, Immutable]
public sealed record ErasureReceipt(
    [property: Id(0)] long Events,
    [property: Id(1)] int Behaviours,
    [property: Id(2)] int Purchases,
    [property: Id(3)] int Searches,
    [property: Id(4)] int EventIds,
    [property: Id(5)] bool Intent);

/// <summary>Everything a user grain holds about its user: the whole window, and the intent's vector.</summary>
[GenerateSerializer, Immutable]
public sealed record UserExport(
    [property: Id(0)] UserView View,
    [property: Id(1)] int RememberedEventIds,
    [property: Id(2)] IReadOnlyList<float>? IntentVector);
