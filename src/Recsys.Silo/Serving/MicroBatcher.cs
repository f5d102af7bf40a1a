using System.Threading.Channels;

namespace Recsys.Silo.Serving;

/// <summary>Serves one batch: fills <c>results[i]</c> for <c>requests[i]</c>. A throw fails every request of the batch.</summary>
public delegate void BatchHandler<TRequest, TResult>(IReadOnlyList<TRequest> requests, TResult[] results);

/// <summary>As <see cref="BatchHandler{TRequest, TResult}"/>, for a batch that waits on I/O (one database round trip).</summary>
public delegate Task AsyncBatchHandler<TRequest, TResult>(IReadOnlyList<TRequest> requests, TResult[] results);

public sealed record MicroBatcherOptions
{
    /// <summary>A batch goes as soon as it has this many requests.</summary>
    public int MaxBatchSize { get; init; } = 64;

    /// <summary>
    /// How long the first request of a batch waits for company when the queue runs dry. Under load batches fill
    /// while the previous one runs, so the wait only matters when traffic is light.
    /// </summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>Workers, each with its own handler (and so its own scratch buffers).</summary>
    public int Workers { get; init; } = 1;

    /// <summary>Requests waiting beyond this make callers wait to enqueue.</summary>
    public int QueueCapacity { get; init; } = 65_536;

    public void Validate()
    {
        if (MaxBatchSize < 1 || Workers < 1 || QueueCapacity < 1 || MaxDelay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxBatchSize), "batch size, workers and queue capacity must be positive and the delay not negative");
        }
    }
}

/// <summary>
/// A stateless worker that serves requests in batches, as the batching worker of Orleans' GPSTracker sample:
/// many callers' requests become one call of the handler (one matrix product instead of many), flushed when
/// the batch is full or the first request has waited <see cref="MicroBatcherOptions.MaxDelay"/>.
/// </summary>
public sealed class MicroBatcher<TRequest, TResult> : IAsyncDisposable
{
    private readonly Channel<Pending> _queue;
    private readonly MicroBatcherOptions _options;
    private readonly Task[] _loops;
    private long _batches;
    private long _requests;

    public MicroBatcher(Func<int, BatchHandler<TRequest, TResult>> handlerFactory, MicroBatcherOptions options)
        : this(worker => Synchronous(handlerFactory(worker)), options)
    {
    }

    public MicroBatcher(Func<int, AsyncBatchHandler<TRequest, TResult>> handlerFactory, MicroBatcherOptions options)
    {
        options.Validate();
        _options = options;
        _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(options.QueueCapacity)
        {
            SingleReader = options.Workers == 1,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _loops = new Task[options.Workers];
        for (var i = 0; i < options.Workers; i++)
        {
            var handler = handlerFactory(i);
            _loops[i] = Task.Run(() => RunAsync(handler));
        }
    }

    /// <summary>Requests waiting for a worker.</summary>
    public int QueueLength => _queue.Reader.Count;

    /// <summary>Batches served so far; with <see cref="RequestsServed"/> gives the mean batch size.</summary>
    public long BatchesServed => Interlocked.Read(ref _batches);

    public long RequestsServed => Interlocked.Read(ref _requests);

    /// <summary>Raised after each batch with its size and how long the handler took (for metrics).</summary>
    public event Action<int, TimeSpan>? BatchServed;

    public async ValueTask<TResult> InvokeAsync(TRequest request, CancellationToken cancellationToken = default)
    {
        var pending = new Pending(request);
        if (!_queue.Writer.TryWrite(pending))
        {
            await _queue.Writer.WriteAsync(pending, cancellationToken);
        }
        return await pending.Completion.Task.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_loops);
    }

    private static AsyncBatchHandler<TRequest, TResult> Synchronous(BatchHandler<TRequest, TResult> handler) => (requests, results) =>
    {
        handler(requests, results);
        return Task.CompletedTask;
    };

    private async Task RunAsync(AsyncBatchHandler<TRequest, TResult> handler)
    {
        var reader = _queue.Reader;
        var batch = new List<Pending>(_options.MaxBatchSize);
        var requests = new List<TRequest>(_options.MaxBatchSize);
        while (await reader.WaitToReadAsync())
        {
            batch.Clear();
            Drain(reader, batch);
            if (batch.Count == 0)
            {
                continue; // another worker took it
            }
            if (batch.Count < _options.MaxBatchSize && _options.MaxDelay > TimeSpan.Zero)
            {
                using var timeout = new CancellationTokenSource(_options.MaxDelay);
                try
                {
                    while (batch.Count < _options.MaxBatchSize && await reader.WaitToReadAsync(timeout.Token))
                    {
                        Drain(reader, batch);
                    }
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested)
                {
                    // the deadline: serve what we have
                }
            }
            requests.Clear();
            foreach (var pending in batch)
            {
                requests.Add(pending.Request);
            }
            var results = new TResult[batch.Count];
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                await handler(requests, results);
            }
            catch (Exception ex)
            {
                foreach (var pending in batch)
                {
                    pending.Completion.TrySetException(ex);
                }
                continue;
            }
            var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
            Interlocked.Increment(ref _batches);
            Interlocked.Add(ref _requests, batch.Count);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Completion.TrySetResult(results[i]);
            }
            BatchServed?.Invoke(batch.Count, elapsed);
        }
    }

    private void Drain(ChannelReader<Pending> reader, List<Pending> batch)
    {
        while (batch.Count < _options.MaxBatchSize && reader.TryRead(out var pending))
        {
            batch.Add(pending);
        }
    }

    private sealed class Pending(TRequest request)
    {
        public TRequest Request { get; } = request;

        public TaskCompletionSource<TResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
