using System.Collections.Concurrent;

namespace Recsys.Silo.State;

/// <summary>A persisted record and the version tag it was read at (Orleans' ETag).</summary>
public sealed record StoredState(byte[] Data, string ETag);

/// <summary>A write was conditional on a version that is no longer current: another owner wrote newer state.</summary>
public sealed class InconsistentStateException(string message) : Exception(message);

/// <summary>
/// Where actors persist their state. Writes are conditional on the version read, so a stale owner can
/// never overwrite newer state: in-memory here, PostgreSQL in cluster mode.
/// </summary>
public interface IStateStore
{
    ValueTask<StoredState?> ReadAsync(string key, CancellationToken cancellationToken);

    /// <summary>Writes when the stored version is <paramref name="expectedETag"/> (null: when nothing is stored); returns the new tag.</summary>
    ValueTask<string> WriteAsync(string key, byte[] data, string? expectedETag, CancellationToken cancellationToken);

    /// <summary>Removes the record when it is at <paramref name="expectedETag"/> (erasure); nothing stored is not an error.</summary>
    ValueTask DeleteAsync(string key, string? expectedETag, CancellationToken cancellationToken);
}

public sealed class InMemoryStateStore : IStateStore
{
    private readonly ConcurrentDictionary<string, StoredState> _records = new(StringComparer.Ordinal);
    private readonly Lock _writeGate = new();
    private long _version;

    public int Count => _records.Count;

    public ValueTask<StoredState?> ReadAsync(string key, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_records.TryGetValue(key, out var state) ? state : null);

    public ValueTask<string> WriteAsync(string key, byte[] data, string? expectedETag, CancellationToken cancellationToken)
    {
        lock (_writeGate)
        {
            var current = _records.TryGetValue(key, out var state) ? state.ETag : null;
            if (!string.Equals(current, expectedETag, StringComparison.Ordinal))
            {
                throw new InconsistentStateException(
                    $"state of '{key}' is at version {current ?? "(none)"}, not {expectedETag ?? "(none)"}: another owner wrote it since it was read");
            }
            var etag = (++_version).ToString(System.Globalization.CultureInfo.InvariantCulture);
            _records[key] = new StoredState(data, etag);
            return ValueTask.FromResult(etag);
        }
    }

    public ValueTask DeleteAsync(string key, string? expectedETag, CancellationToken cancellationToken)
    {
        lock (_writeGate)
        {
            var current = _records.TryGetValue(key, out var state) ? state.ETag : null;
            if (current is not null && !string.Equals(current, expectedETag, StringComparison.Ordinal))
            {
                throw new InconsistentStateException($"state of '{key}' is at version {current}, not {expectedETag ?? "(none)"}: it changed since it was read");
            }
            _records.TryRemove(key, out _);
            return ValueTask.CompletedTask;
        }
    }
}
