using Orleans.Storage;
using Recsys.Grains;

namespace Recsys.Cluster.AzureStorage;

/// <summary>
/// Stores a user record's bytes as they are (the domain's compact binary state codec) in Orleans' Azure grain
/// storage, rather than Orleans' serialization of the wrapper: the same bytes as in PostgreSQL, readable without
/// Orleans, and a renamed type never breaks stored state.
/// </summary>
public sealed class UserRecordStorageSerializer : IGrainStorageSerializer
{
    public BinaryData Serialize<T>(T? input) => input is UserRecord record
        ? new BinaryData(record.Data)
        : throw new NotSupportedException($"{nameof(UserRecordStorageSerializer)} stores {nameof(UserRecord)}s, not {typeof(T).Name}");

    public T Deserialize<T>(BinaryData input) => typeof(T) == typeof(UserRecord)
        ? (T)(object)new UserRecord { Data = input.ToArray() }
        : throw new NotSupportedException($"{nameof(UserRecordStorageSerializer)} reads {nameof(UserRecord)}s, not {typeof(T).Name}");
}
