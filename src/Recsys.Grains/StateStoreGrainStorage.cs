using Orleans.Storage;
using Recsys.Silo.State;

namespace Recsys.Grains;

/// <summary>
/// Orleans grain storage for user records over the state-store seam (in memory for the embedded default; PostgreSQL's
/// versioned rows in cluster mode): the record's bytes are stored as they are, keyed by the user id, and every write is
/// conditional on the version read, so a stale activation can never overwrite newer state.
/// </summary>
public sealed class StateStoreGrainStorage(IStateStore store) : IGrainStorage
{
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var stored = await store.ReadAsync(KeyOf(grainId), CancellationToken.None);
        grainState.State = (T)(object)new UserRecord { Data = stored?.Data ?? [] };
        grainState.ETag = stored?.ETag;
        grainState.RecordExists = stored is not null;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var record = grainState.State as UserRecord
            ?? throw new NotSupportedException($"{nameof(StateStoreGrainStorage)} stores {nameof(UserRecord)}s, not {typeof(T).Name}");
        try
        {
            grainState.ETag = await store.WriteAsync(KeyOf(grainId), record.Data, grainState.ETag, CancellationToken.None);
            grainState.RecordExists = true;
        }
        catch (Silo.State.InconsistentStateException conflict)
        {
            throw new Orleans.Storage.InconsistentStateException(conflict.Message, conflict);
        }
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        try
        {
            await store.DeleteAsync(KeyOf(grainId), grainState.ETag, CancellationToken.None);
        }
        catch (Silo.State.InconsistentStateException conflict)
        {
            throw new Orleans.Storage.InconsistentStateException(conflict.Message, conflict);
        }
        grainState.ETag = null;
        grainState.RecordExists = false;
        grainState.State = (T)(object)new UserRecord { Data = [] };
    }

    private static string KeyOf(GrainId grainId) => grainId.Key.ToString()!;
}
