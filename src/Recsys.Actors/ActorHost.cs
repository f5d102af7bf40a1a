using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Recsys.Actors;

/// <summary>
/// Hosts one activation per key. Each activation runs its turns one at a time, in arrival order, on the
/// thread pool; it is activated by the first message and deactivated after <see cref="ActorHostOptions.IdleTimeout"/>.
/// A message that meets a deactivating actor waits for the deactivation (and its persisted state) and goes
/// to a fresh activation, so no message is lost and no state is read before it was written.
/// </summary>
public sealed class ActorHost<TKey, TActor> : IAsyncDisposable
    where TKey : notnull
    where TActor : class, IActor
{
    private readonly ConcurrentDictionary<TKey, Activation> _activations = new();
    private readonly Func<TKey, TActor> _factory;
    private readonly Func<TKey, Activation> _createActivation;
    private readonly ActorHostOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _collector;
    private long _activationCount;
    private long _deactivationCount;
    private volatile bool _disposed;

    public ActorHost(Func<TKey, TActor> factory, ActorHostOptions options, TimeProvider? clock = null, ILogger? logger = null)
    {
        options.Validate();
        _factory = factory;
        _options = options;
        _clock = clock ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _createActivation = key => new Activation(this, key);
        _collector = CollectPeriodicallyAsync();
    }

    public int ActiveCount => _activations.Count;

    public long TotalActivations => Interlocked.Read(ref _activationCount);

    public long TotalDeactivations => Interlocked.Read(ref _deactivationCount);

    public bool IsActive(TKey key) => _activations.ContainsKey(key);

    /// <summary>
    /// Reads what an active actor has published for concurrent readers, without a turn. <paramref name="read"/>
    /// must only touch state the actor publishes safely (an immutable object in a volatile field); it returns
    /// null when nothing is published, and then so does this: take a turn instead.
    /// </summary>
    public TResult? PeekPublished<TResult>(TKey key, Func<TActor, TResult?> read) where TResult : class =>
        _activations.TryGetValue(key, out var activation) ? read(activation.Actor) : null;

    /// <summary>Runs <paramref name="turn"/> on the actor for <paramref name="key"/>, activating it if needed.</summary>
    public async ValueTask<TResult> AskAsync<TArg, TResult>(TKey key, TArg arg, Func<TActor, TArg, ValueTask<TResult>> turn,
        CancellationToken cancellationToken = default)
    {
        var result = await PostAsync(key, arg, turn, cancellationToken);
        return await result;
    }

    /// <summary>
    /// Queues <paramref name="turn"/> and returns once it is queued, with a task for its result: posts to one key run
    /// in the order they were queued, so a caller that must keep order (a stream consumer) awaits only the queueing.
    /// </summary>
    public async ValueTask<Task<TResult>> PostAsync<TArg, TResult>(TKey key, TArg arg, Func<TActor, TArg, ValueTask<TResult>> turn,
        CancellationToken cancellationToken = default)
    {
        var item = new Turn<TArg, TResult>(arg, turn);
        await EnqueueAsync(key, item, cancellationToken);
        return item.Task;
    }

    /// <summary>A synchronous turn; the result comes back through the same ordering guarantees.</summary>
    public ValueTask<TResult> AskAsync<TArg, TResult>(TKey key, TArg arg, Func<TActor, TArg, TResult> turn,
        CancellationToken cancellationToken = default) =>
        AskAsync(key, (arg, turn), static (actor, state) => ValueTask.FromResult(state.turn(actor, state.arg)), cancellationToken);

    /// <summary>Deactivates actors idle for longer than the idle timeout; returns how many were deactivated.</summary>
    public async Task<int> CollectIdleAsync()
    {
        var now = _clock.GetTimestamp();
        var pending = new List<Task<bool>>();
        foreach (var activation in _activations.Values)
        {
            if (_clock.GetElapsedTime(activation.LastActivity, now) >= _options.IdleTimeout)
            {
                var request = new DeactivateRequest(force: false);
                if (activation.TryPost(request))
                {
                    pending.Add(request.Task);
                }
            }
        }
        var results = await Task.WhenAll(pending);
        return results.Count(static deactivated => deactivated);
    }

    /// <summary>Deactivates every actor (their state persisted): graceful shutdown.</summary>
    public async Task DeactivateAllAsync()
    {
        using var timeout = new CancellationTokenSource(_options.ShutdownTimeout);
        while (!_activations.IsEmpty)
        {
            var waits = new List<Task>();
            foreach (var activation in _activations.Values)
            {
                var request = new DeactivateRequest(force: true);
                try
                {
                    await activation.PostAsync(request, timeout.Token);
                }
                catch (ChannelClosedException)
                {
                    // already deactivating; waiting for it below is enough
                }
                waits.Add(activation.Closed);
            }
            await Task.WhenAll(waits).WaitAsync(timeout.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _stopping.Cancel();
        try
        {
            await _collector;
        }
        catch (OperationCanceledException)
        {
        }
        try
        {
            await DeactivateAllAsync();
        }
        catch (OperationCanceledException)
        {
            _logger.LogError("Shutdown timed out with {Count} actors still active; their latest state may not be persisted", _activations.Count);
        }
        _disposed = true;
        _stopping.Dispose();
    }

    private async ValueTask EnqueueAsync(TKey key, WorkItem item, CancellationToken cancellationToken)
    {
        while (true)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var activation = _activations.GetOrAdd(key, _createActivation);
            if (activation.TryPost(item))
            {
                return;
            }
            try
            {
                await activation.PostAsync(item, cancellationToken);
                return;
            }
            catch (ChannelClosedException)
            {
                // The actor is deactivating: wait until its state is persisted, then a new activation takes the message.
                await activation.Closed.WaitAsync(cancellationToken);
            }
        }
    }

    private async Task CollectPeriodicallyAsync()
    {
        using var timer = new PeriodicTimer(_options.CollectionInterval, _clock);
        while (await timer.WaitForNextTickAsync(_stopping.Token))
        {
            try
            {
                var count = await CollectIdleAsync();
                if (count > 0)
                {
                    _logger.LogDebug("Deactivated {Count} idle actors; {Active} remain active", count, _activations.Count);
                }
            }
            catch (Exception ex)
            {
                _logger.LogError(ex, "Idle actor collection failed");
            }
        }
    }

    private abstract class WorkItem
    {
        public abstract ValueTask RunAsync(Activation activation);

        public abstract void Fail(Exception exception);
    }

    private sealed class Turn<TArg, TResult>(TArg arg, Func<TActor, TArg, ValueTask<TResult>> turn) : WorkItem
    {
        private readonly TaskCompletionSource<TResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<TResult> Task => _completion.Task;

        public override async ValueTask RunAsync(Activation activation)
        {
            TResult result;
            try
            {
                result = await turn(activation.Actor, arg);
            }
            catch (Exception ex)
            {
                // A failed turn fails its caller; the actor stays active, as an Orleans grain does.
                activation.Touch();
                _completion.TrySetException(ex);
                return;
            }
            // Activity is recorded before the caller resumes: whatever the caller does next (advance a clock,
            // collect idle actors) sees this turn as having happened.
            activation.Touch();
            _completion.TrySetResult(result);
        }

        public override void Fail(Exception exception) => _completion.TrySetException(exception);
    }

    private sealed class DeactivateRequest(bool force) : WorkItem
    {
        private readonly TaskCompletionSource<bool> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<bool> Task => _completion.Task;

        public override ValueTask RunAsync(Activation activation)
        {
            // A message may have been handled since the collector looked: then the actor is not idle any more.
            var idle = force || activation.IdleFor >= activation.Host._options.IdleTimeout;
            if (idle)
            {
                activation.BeginClosing(_completion);
            }
            else
            {
                _completion.TrySetResult(false);
            }
            return ValueTask.CompletedTask;
        }

        public override void Fail(Exception exception) => _completion.TrySetResult(false);
    }

    private sealed class Activation : IThreadPoolWorkItem
    {
        private readonly Mailbox<WorkItem> _mailbox;
        // Allocated on first use: most resident activations never close while anyone waits.
        private TaskCompletionSource? _closed;
        private List<TaskCompletionSource<bool>>? _closeWaiters;
        private int _scheduled;
        private bool _activated;
        private bool _closing;
        private long _lastActivity;

        public Activation(ActorHost<TKey, TActor> host, TKey key)
        {
            Host = host;
            Key = key;
            Actor = host._factory(key);
            _mailbox = new Mailbox<WorkItem>(host._options.MailboxCapacity);
            _lastActivity = host._clock.GetTimestamp();
        }

        public ActorHost<TKey, TActor> Host { get; }

        public TKey Key { get; }

        public TActor Actor { get; }

        public Task Closed
        {
            get
            {
                var closed = Volatile.Read(ref _closed);
                if (closed is null)
                {
                    Interlocked.CompareExchange(ref _closed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), null);
                    closed = _closed;
                }
                return closed.Task;
            }
        }

        private void MarkClosed()
        {
            // Whoever reads Closed later gets a completed task.
            Interlocked.CompareExchange(ref _closed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), null);
            _closed.TrySetResult();
        }

        public long LastActivity => Volatile.Read(ref _lastActivity);

        public TimeSpan IdleFor => Host._clock.GetElapsedTime(LastActivity);

        public void Touch() => Volatile.Write(ref _lastActivity, Host._clock.GetTimestamp());

        public bool TryPost(WorkItem item)
        {
            if (!_mailbox.TryWrite(item))
            {
                return false;
            }
            Schedule();
            return true;
        }

        public async ValueTask PostAsync(WorkItem item, CancellationToken cancellationToken)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Host._options.FullMailboxWait);
            try
            {
                await _mailbox.WriteAsync(item, timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new MailboxFullException(
                    $"actor '{Key}' has {Host._options.MailboxCapacity} messages queued and none left for {Host._options.FullMailboxWait.TotalSeconds:0.#} s; retry later");
            }
            Schedule();
        }

        public void BeginClosing(TaskCompletionSource<bool> waiter)
        {
            _closing = true;
            (_closeWaiters ??= []).Add(waiter);
            _mailbox.Complete();
        }

        public void Execute() => _ = RunAsync();

        private void Schedule()
        {
            if (Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0)
            {
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
            }
        }

        private async Task RunAsync()
        {
            var reader = _mailbox;
            while (true)
            {
                if (!_activated && !await TryActivateAsync())
                {
                    return;
                }
                while (reader.TryRead(out var item))
                {
                    await item.RunAsync(this);
                }
                if (_closing && reader.IsFinished)
                {
                    await FinishClosingAsync();
                    return;
                }
                Volatile.Write(ref _scheduled, 0);
                // A message written after the last TryRead but before the flag was cleared would strand: look again.
                if (reader.Count == 0 || Interlocked.CompareExchange(ref _scheduled, 1, 0) != 0)
                {
                    return;
                }
            }
        }

        private async ValueTask<bool> TryActivateAsync()
        {
            try
            {
                await Actor.OnActivateAsync(Host._stopping.Token);
                _activated = true;
                Interlocked.Increment(ref Host._activationCount);
                return true;
            }
            catch (Exception ex)
            {
                Host._logger.LogError(ex, "Activation of actor {Key} failed; its messages fail and the next message retries", Key);
                _mailbox.Complete();
                // Gone from the host before its callers hear of the failure, so their retry meets a fresh activation.
                Host._activations.TryRemove(new KeyValuePair<TKey, Activation>(Key, this));
                while (_mailbox.TryRead(out var item))
                {
                    item.Fail(new InvalidOperationException($"actor '{Key}' could not be activated: {ex.Message}", ex));
                }
                MarkClosed();
                return false;
            }
        }

        private async Task FinishClosingAsync()
        {
            try
            {
                await Actor.OnDeactivateAsync(CancellationToken.None);
            }
            catch (Exception ex)
            {
                Host._logger.LogError(ex, "Deactivation of actor {Key} failed; state changes since its last save may be lost", Key);
            }
            finally
            {
                Host._activations.TryRemove(new KeyValuePair<TKey, Activation>(Key, this));
                Interlocked.Increment(ref Host._deactivationCount);
                foreach (var waiter in _closeWaiters ?? [])
                {
                    waiter.TrySetResult(true);
                }
                MarkClosed();
            }
        }
    }
}
