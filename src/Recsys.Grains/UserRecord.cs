namespace Recsys.Grains;

/// <summary>
/// A user grain's persisted state: the domain's compact binary encoding of the user (item ids, not process-local
/// indexes), so any storage provider and serializer stores it alike and renaming a type never breaks stored state.
/// </summary>
[GenerateSerializer]
public sealed class UserRecord
{
    [Id(0)]
    public byte[] Data { get; set; } = [];
}
