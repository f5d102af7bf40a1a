using Recsys.Domain.Catalogue;
using Recsys.Domain.Users;
using Recsys.Model.Serving;
using Recsys.Model.Training;

namespace Recsys.Silo.Serving;

/// <summary>One encode: a user's history as <paramref name="Model"/> reads it, after <paramref name="StateVersion"/> events.</summary>
public sealed record EncodeJob(ServingModel Model, UserSequence History, long StateVersion);

/// <summary>
/// Where a user's intent slot gets encodes: this silo's inference workers, or an inference grain on another silo.
/// </summary>
public interface IIntentEncoder
{
    ValueTask<IntentEmbedding> EncodeAsync(ServingModel model, UserSnapshot user, CancellationToken cancellationToken = default);

    /// <summary>An encode caught a user's intent up with their history that changed at this timestamp (freshness).</summary>
    void ReportRefreshed(long changedAtTimestamp);
}

/// <summary>
/// The inference workers: encode jobs from many user actors micro-batched into one forward pass of a backend
/// (CPU now; a GPU backend is another <see cref="IEncoderBackend"/> and changes nothing here).
/// </summary>
public sealed class IntentEncoder : IIntentEncoder, IAsyncDisposable
{
    private readonly ItemRegistry _items;
    private readonly MicroBatcher<EncodeJob, IntentEmbedding> _batcher;

    public IntentEncoder(ItemRegistry items, Func<IEncoderBackend> backendFactory, MicroBatcherOptions batching)
    {
        _items = items;
        _batcher = new MicroBatcher<EncodeJob, IntentEmbedding>(_ =>
        {
            var backend = backendFactory();
            return (jobs, results) => Encode(backend, jobs, results);
        }, batching);
    }

    public MicroBatcher<EncodeJob, IntentEmbedding> Batcher => _batcher;

    public ValueTask<IntentEmbedding> EncodeAsync(EncodeJob job, CancellationToken cancellationToken = default) =>
        _batcher.InvokeAsync(job, cancellationToken);

    public ValueTask<IntentEmbedding> EncodeAsync(ServingModel model, UserSnapshot user, CancellationToken cancellationToken = default) =>
        _batcher.InvokeAsync(new EncodeJob(model, HistoryOf(model, user), user.EventCount), cancellationToken);

    /// <summary>The user's window as the model reads it (model vocabulary, types, seconds), oldest first.</summary>
    public UserSequence HistoryOf(ServingModel model, UserSnapshot user)
    {
        var recent = user.Recent;
        var items = new int[recent.Count];
        var types = new byte[recent.Count];
        var times = new long[recent.Count];
        for (var i = 0; i < recent.Count; i++)
        {
            var record = recent[i];
            items[i] = model.IndexOf(_items.GetId(record.ItemIndex));
            types[i] = (byte)record.Type;
            times[i] = record.TimestampMs / 1000;
        }
        return ServingModel.History(user.UserId, items, types, times);
    }

    public ValueTask DisposeAsync() => _batcher.DisposeAsync();

    /// <summary>Raised when an encode catches a user's intent up with their history: the time since the history changed.</summary>
    public event Action<TimeSpan>? IntentRefreshed;

    public void ReportRefreshed(long changedAtTimestamp) => IntentRefreshed?.Invoke(System.Diagnostics.Stopwatch.GetElapsedTime(changedAtTimestamp));

    private static void Encode(IEncoderBackend backend, IReadOnlyList<EncodeJob> jobs, IntentEmbedding[] results)
    {
        var histories = new List<UserSequence>(jobs.Count);
        ByModel.ForEachGroup(jobs, static job => job.Model, (model, group) =>
        {
            histories.Clear();
            foreach (var i in group)
            {
                histories.Add(jobs[i].History);
            }
            var intents = new float[group.Count * model.Dim];
            var purchase = new float[group.Count];
            backend.Encode(model, histories, intents, purchase);
            for (var j = 0; j < group.Count; j++)
            {
                results[group[j]] = new IntentEmbedding(model.Version, intents.AsSpan(j * model.Dim, model.Dim).ToArray(),
                    float.IsNaN(purchase[j]) ? null : purchase[j], jobs[group[j]].StateVersion);
            }
        });
    }
}

/// <summary>
/// A user's cached intent with coalesced re-encoding: events only record the newest snapshot; at most one encode
/// per user is queued or running, and when it finishes it starts another only if newer events arrived meanwhile,
/// so a burst of events costs one or two encodes, never one per event. Thread-safe; lives in the user's actor.
/// </summary>
public sealed class IntentSlot
{
    // The slot is its own lock (private to this type): a Lock object would add 40 bytes to every resident user.
    private UserSnapshot? _latest;
    private ServingModel? _wanted;
    private IntentEmbedding? _current;
    private bool _encoding;
    private TaskCompletionSource? _changed;
    private int _encodes;
    private long _changedAt; // when the history first changed since the last encode that caught up (0: caught up)

    /// <summary>The newest intent encoded, whatever its model and state version.</summary>
    public IntentEmbedding? Current => Volatile.Read(ref _current);

    /// <summary>Encodes started for this user (for tests and metrics).</summary>
    public int Encodes => Volatile.Read(ref _encodes);

    /// <summary>Records the user's new state and makes sure an encode will reflect it. Called from the actor's turn.</summary>
    public void Update(UserSnapshot user, ServingModel model, IIntentEncoder encoder)
    {
        lock (this)
        {
            if (_changedAt == 0)
            {
                _changedAt = System.Diagnostics.Stopwatch.GetTimestamp();
            }
            _latest = user;
            _wanted = model;
            StartIfIdle(encoder);
        }
    }

    /// <summary>
    /// The intent of <paramref name="model"/> for a state at least as new as <paramref name="user"/>; waits up to
    /// <paramref name="budget"/> for a pending encode, then settles for the newest intent of that model (possibly
    /// stale), or null when that model has none yet.
    /// </summary>
    public async ValueTask<IntentEmbedding?> GetAsync(UserSnapshot user, ServingModel model, IIntentEncoder encoder, TimeSpan budget,
        CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + budget;
        while (true)
        {
            Task changed;
            lock (this)
            {
                if (_current is { } current && current.ModelVersion == model.Version && current.StateVersion >= user.EventCount)
                {
                    return current;
                }
                if (_latest is null || _latest.EventCount < user.EventCount)
                {
                    _latest = user;
                }
                _wanted = model;
                StartIfIdle(encoder);
                changed = (_changed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                var stale = Current;
                return stale?.ModelVersion == model.Version ? stale : null;
            }
            try
            {
                await changed.WaitAsync(remaining, cancellationToken);
            }
            catch (TimeoutException)
            {
                // the loop returns the stale intent
            }
        }
    }

    private void StartIfIdle(IIntentEncoder encoder)
    {
        if (_encoding)
        {
            return; // the running encode looks at _latest again when it finishes
        }
        _encoding = true;
        _ = EncodeUntilCurrentAsync(encoder);
    }

    private async Task EncodeUntilCurrentAsync(IIntentEncoder encoder)
    {
        while (true)
        {
            ServingModel model;
            UserSnapshot user;
            lock (this)
            {
                (model, user) = (_wanted!, _latest!);
            }
            Interlocked.Increment(ref _encodes);
            IntentEmbedding? result = null;
            try
            {
                result = await encoder.EncodeAsync(model, user);
            }
            catch (Exception) when (result is null)
            {
                // the backend failed: readers fall back after their budget; the next event retries
            }
            TaskCompletionSource? changed;
            lock (this)
            {
                if (result is not null)
                {
                    _current = result;
                }
                changed = _changed;
                _changed = null;
                var more = result is not null && (_latest!.EventCount > user.EventCount || _wanted != model);
                if (!more)
                {
                    _encoding = false;
                    if (result is not null && _changedAt != 0)
                    {
                        encoder.ReportRefreshed(_changedAt);
                        _changedAt = 0;
                    }
                }
                changed?.TrySetResult();
                if (!more)
                {
                    return;
                }
            }
        }
    }
}
