using Microsoft.Extensions.Logging;
using Npgsql;
using Recsys.Silo;
using Recsys.Silo.Serving;
using Recsys.Silo.State;

namespace Recsys.Cluster;

/// <summary>
/// User state in PostgreSQL: one row per user with a version column. Every write is conditional on the version
/// the writer read (the grain storage ETag), so a stale activation (one left on a silo declared dead) fails and reloads instead of
/// overwriting newer state. Unreachable-database errors are retried with backoff; <see cref="IsReachable"/>
/// reports the last outcome for readiness.
/// </summary>
public sealed class PostgresStateStore : IStateStore, IAsyncDisposable
{
    private readonly NpgsqlDataSource _db;
    private readonly ILogger _logger;
    private readonly TimeSpan _maxRetryDelay;
    private readonly MicroBatcher<PendingWrite, string?> _writes;
    private readonly MicroBatcher<string, StoredState?> _reads;
    private volatile bool _reachable = true;
    private volatile string? _lastError;

    public PostgresStateStore(string connectionString, ILogger logger, TimeSpan? maxRetryDelay = null, int maxConnections = 24)
    {
        // Several silos share one server's connection limit: cap the pool unless the connection string sets its own size.
        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        if (!connectionString.Contains("pool size", StringComparison.OrdinalIgnoreCase))
        {
            settings.MaxPoolSize = maxConnections;
        }
        _db = NpgsqlDataSource.Create(settings);
        _logger = logger;
        _maxRetryDelay = maxRetryDelay ?? TimeSpan.FromSeconds(2);
        // A few round trips in flight, each taking whatever queued meanwhile; no waiting for company.
        var inFlight = Math.Clamp(maxConnections / 4, 1, 4);
        _writes = new MicroBatcher<PendingWrite, string?>(_ => WriteBatchAsync,
            new MicroBatcherOptions { MaxBatchSize = 128, MaxDelay = TimeSpan.Zero, Workers = inFlight });
        _reads = new MicroBatcher<string, StoredState?>(_ => ReadBatchAsync,
            new MicroBatcherOptions { MaxBatchSize = 256, MaxDelay = TimeSpan.Zero, Workers = inFlight });
    }

    public bool IsReachable => _reachable;

    public string? LastError => _lastError;

    /// <summary>How long an operation keeps retrying an unreachable database; infinite for workers, whose commits must land.</summary>
    public TimeSpan RetryBudget { get; init; } = Timeout.InfiniteTimeSpan;

    /// <summary>
    /// Creates or migrates the schema (<see cref="SchemaMigrations"/>); silos starting together take turns through an
    /// advisory lock, and a version already applied is never run again.
    /// </summary>
    public Task MigrateAsync(CancellationToken cancellationToken) => WithRetryAsync("migrate the schema", async () =>
    {
        await using var connection = await _db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await Execute(connection, "SELECT pg_advisory_xact_lock(7261504)", cancellationToken);
        await Execute(connection, "CREATE TABLE IF NOT EXISTS recsys_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
            cancellationToken);
        await using var read = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM recsys_schema", connection);
        var current = (int)(await read.ExecuteScalarAsync(cancellationToken))!;
        for (var version = current + 1; version <= SchemaMigrations.Versions.Count; version++)
        {
            await Execute(connection, SchemaMigrations.Versions[version - 1], cancellationToken);
            await using var record = new NpgsqlCommand("INSERT INTO recsys_schema (version) VALUES ($1)", connection) { Parameters = { new() { Value = version } } };
            await record.ExecuteNonQueryAsync(cancellationToken);
            _logger.LogInformation("Database schema migrated to version {Version} of {Latest}", version, SchemaMigrations.Versions.Count);
        }
        await transaction.CommitAsync(cancellationToken);
        return 0;
    }, Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>Through <see cref="_reads"/>: grains activating at once (a stream backlog) share one query.</summary>
    public ValueTask<StoredState?> ReadAsync(string key, CancellationToken cancellationToken) => _reads.InvokeAsync(key, cancellationToken);

    private Task<int> ReadBatchAsync(IReadOnlyList<string> keys, StoredState?[] states) => WithRetryAsync("read user state", async () =>
    {
        await using var command = _db.CreateCommand("SELECT user_id, version, data FROM recsys_user_state WHERE user_id = ANY($1)");
        command.Parameters.Add(new NpgsqlParameter { Value = keys.Distinct(StringComparer.Ordinal).ToArray() });
        var found = new Dictionary<string, StoredState>(keys.Count, StringComparer.Ordinal);
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                found[reader.GetString(0)] = new StoredState(reader.GetFieldValue<byte[]>(2),
                    reader.GetInt64(1).ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        for (var i = 0; i < keys.Count; i++)
        {
            states[i] = found.GetValueOrDefault(keys[i]);
        }
        return 0;
    }, CancellationToken.None);

    /// <summary>
    /// Commits through <see cref="_writes"/>: the writes of many grains waiting at once go to the server as one
    /// transaction (one round trip, one flush to disk), each still conditional on its own version.
    /// </summary>
    public async ValueTask<string> WriteAsync(string key, byte[] data, string? expectedETag, CancellationToken cancellationToken) =>
        await _writes.InvokeAsync(new PendingWrite(key, data, expectedETag), cancellationToken)
        ?? throw new InconsistentStateException(
            $"state of '{key}' is no longer at version {expectedETag ?? "(none)"}: another owner wrote it since it was read");

    /// <summary>One transaction for a batch of writes; a write whose version moved on gets null (the others still land).</summary>
    private Task<int> WriteBatchAsync(IReadOnlyList<PendingWrite> writes, string?[] versions) => WithRetryAsync("write user state", async () =>
    {
        await using var connection = await _db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var write in writes)
        {
            // Insert when nothing was read, else update only at the version read; no row back: another owner got there first.
            var command = write.ExpectedETag is null
                ? new NpgsqlBatchCommand("INSERT INTO recsys_user_state (user_id, version, data) VALUES ($1, 1, $2) ON CONFLICT (user_id) DO NOTHING RETURNING version")
                : new NpgsqlBatchCommand("UPDATE recsys_user_state SET data = $2, version = version + 1, updated_at = now() WHERE user_id = $1 AND version = $3 RETURNING version");
            command.Parameters.Add(new NpgsqlParameter { Value = write.Key });
            command.Parameters.Add(new NpgsqlParameter { Value = write.Data });
            if (write.ExpectedETag is not null)
            {
                command.Parameters.Add(new NpgsqlParameter { Value = long.Parse(write.ExpectedETag, System.Globalization.CultureInfo.InvariantCulture) });
            }
            batch.BatchCommands.Add(command);
        }
        var written = new string?[writes.Count];
        await using (var reader = await batch.ExecuteReaderAsync())
        {
            for (var i = 0; i < writes.Count; i++)
            {
                written[i] = await reader.ReadAsync()
                    ? reader.GetInt64(0).ToString(System.Globalization.CultureInfo.InvariantCulture)
                    : null;
                await reader.NextResultAsync();
            }
        }
        await transaction.CommitAsync();
        // Only a committed batch reports versions: a failed one is retried whole (its transaction rolled back).
        written.CopyTo(versions, 0);
        return 0;
    }, CancellationToken.None);

    private sealed record PendingWrite(string Key, byte[] Data, string? ExpectedETag);

    /// <summary>Erasure: removes the row at the version read (rare, so not batched); a row already gone is fine.</summary>
    public async ValueTask DeleteAsync(string key, string? expectedETag, CancellationToken cancellationToken) =>
        await WithRetryAsync("erase user state", async () =>
        {
            await using var command = _db.CreateCommand(
                "DELETE FROM recsys_user_state WHERE user_id = $1 AND ($2::bigint IS NULL OR version = $2) RETURNING version");
            command.Parameters.Add(new NpgsqlParameter { Value = key });
            command.Parameters.Add(new NpgsqlParameter<long?>
            {
                TypedValue = expectedETag is null ? null : long.Parse(expectedETag, System.Globalization.CultureInfo.InvariantCulture),
            });
            if (await command.ExecuteScalarAsync(cancellationToken) is null && expectedETag is not null)
            {
                await using var exists = _db.CreateCommand("SELECT 1 FROM recsys_user_state WHERE user_id = $1");
                exists.Parameters.Add(new NpgsqlParameter { Value = key });
                if (await exists.ExecuteScalarAsync(cancellationToken) is not null)
                {
                    throw new InconsistentStateException($"state of '{key}' changed since it was read; erase again");
                }
            }
            return 0;
        }, cancellationToken);

    /// <summary>Every stored user id and state (tests and tools; not a serving path).</summary>
    public async IAsyncEnumerable<(string UserId, byte[] Data)> ReadAllAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var command = _db.CreateCommand("SELECT user_id, data FROM recsys_user_state ORDER BY user_id");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return (reader.GetString(0), reader.GetFieldValue<byte[]>(1));
        }
    }

    /// <summary>Stores catalogue items (encoded by the caller) so every process can pick them up.</summary>
    public Task UpsertItemsAsync(IReadOnlyList<(string ItemId, byte[] Data)> items, CancellationToken cancellationToken) =>
        WithRetryAsync("store catalogue items", async () =>
        {
            await using var batch = _db.CreateBatch();
            foreach (var (itemId, data) in items)
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand(
                    "INSERT INTO recsys_items (item_id, data) VALUES ($1, $2) ON CONFLICT (item_id) DO UPDATE SET data = excluded.data, revision = nextval(pg_get_serial_sequence('recsys_items', 'revision'))")
                {
                    Parameters = { new() { Value = itemId }, new() { Value = data } },
                });
            }
            await batch.ExecuteNonQueryAsync(cancellationToken);
            return 0;
        }, cancellationToken);

    /// <summary>Catalogue items stored after <paramref name="revision"/>, in revision order.</summary>
    public Task<IReadOnlyList<(long Revision, byte[] Data)>> ReadItemsSinceAsync(long revision, CancellationToken cancellationToken) =>
        WithRetryAsync("read catalogue items", async () =>
        {
            await using var command = _db.CreateCommand("SELECT revision, data FROM recsys_items WHERE revision > $1 ORDER BY revision LIMIT 10000");
            command.Parameters.Add(new NpgsqlParameter { Value = revision });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var items = new List<(long, byte[])>();
            while (await reader.ReadAsync(cancellationToken))
            {
                items.Add((reader.GetInt64(0), reader.GetFieldValue<byte[]>(1)));
            }
            return (IReadOnlyList<(long, byte[])>)items;
        }, TimeSpan.Zero, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _writes.DisposeAsync();
        await _reads.DisposeAsync();
        await _db.DisposeAsync();
    }

    private Task<T> WithRetryAsync<T>(string operation, Func<Task<T>> attempt, CancellationToken cancellationToken) =>
        WithRetryAsync(operation, attempt, RetryBudget, cancellationToken);

    private async Task<T> WithRetryAsync<T>(string operation, Func<Task<T>> attempt, TimeSpan budget, CancellationToken cancellationToken)
    {
        var started = DateTime.UtcNow;
        var delay = TimeSpan.FromMilliseconds(50);
        for (var failures = 1; ; failures++)
        {
            try
            {
                var result = await attempt();
                if (!_reachable)
                {
                    _logger.LogInformation("PostgreSQL reachable again");
                }
                _reachable = true;
                _lastError = null;
                return result;
            }
            catch (Exception ex) when (IsUnreachable(ex) && !cancellationToken.IsCancellationRequested)
            {
                _reachable = false;
                _lastError = ex.Message;
                if (budget != Timeout.InfiniteTimeSpan && DateTime.UtcNow - started + delay > budget)
                {
                    throw new ServiceUnavailableException($"the state database is unreachable ({ex.Message}); retry shortly", ex);
                }
                if (failures == 1 || failures % 10 == 0)
                {
                    _logger.LogWarning("Could not {Operation} (attempt {Attempt}): {Error}; retrying in {Delay} ms", operation, failures, ex.Message,
                        (int)delay.TotalMilliseconds);
                }
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _maxRetryDelay.Ticks));
            }
        }
    }

    /// <summary>Connection-level failures are worth retrying; SQL errors (a bug, a constraint) are not.</summary>
    private static bool IsUnreachable(Exception ex) => ex switch
    {
        PostgresException postgres => postgres.IsTransient || postgres.SqlState.StartsWith("57P", StringComparison.Ordinal), // admin shutdown and the like
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is System.Net.Sockets.SocketException or IOException or TimeoutException,
        System.Net.Sockets.SocketException or TimeoutException => true,
        _ => false,
    };

    private static async Task Execute(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
