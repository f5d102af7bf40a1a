using System.Threading.Channels;

namespace Recsys.Actors;

/// <summary>
/// A fixed set of stateless workers sharing one bounded queue, as Orleans' stateless workers: work that
/// needs no per-user state (scoring, encoding) runs here with bounded concurrency, off the actors' turns.
/// </summary>
public sealed class StatelessWorkerPool<TWorker> : IAsyncDisposable
{
    private readonly Channel<Work> _queue;
    private readonly Task[] _loops;

    public StatelessWorkerPool(Func<int, TWorker> factory, int workerCount, int queueCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workerCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(queueCapacity, 1);
        WorkerCount = workerCount;
        _queue = Channel.CreateBounded<Work>(new BoundedChannelOptions(queueCapacity)
        {
            SingleReader = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _loops = new Task[workerCount];
        for (var i = 0; i < workerCount; i++)
        {
            var worker = factory(i);
            _loops[i] = Task.Run(() => RunAsync(worker));
        }
    }

    public int WorkerCount { get; }

    /// <summary>Queued work items not yet picked up by a worker.</summary>
    public int QueueLength => _queue.Reader.Count;

    public async ValueTask<TResult> InvokeAsync<TArg, TResult>(TArg arg, Func<TWorker, TArg, TResult> work, CancellationToken cancellationToken = default)
    {
        var item = new Work<TArg, TResult>(arg, work);
        if (!_queue.Writer.TryWrite(item))
        {
            await _queue.Writer.WriteAsync(item, cancellationToken);
        }
        return await item.Task;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_loops);
    }

    private async Task RunAsync(TWorker worker)
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync())
        {
            while (reader.TryRead(out var item))
            {
                item.Run(worker);
            }
        }
    }

    private abstract class Work
    {
        public abstract void Run(TWorker worker);
    }

    private sealed class Work<TArg, TResult>(TArg arg, Func<TWorker, TArg, TResult> work) : Work
    {
        private readonly TaskCompletionSource<TResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<TResult> Task => _completion.Task;

        public override void Run(TWorker worker)
        {
            try
            {
                _completion.TrySetResult(work(worker, arg));
            }
            catch (Exception ex)
            {
                _completion.TrySetException(ex);
            }
        }
    }
}
