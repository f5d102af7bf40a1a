using System.Threading.Channels;

namespace Recsys.Actors;

/// <summary>
/// An actor's bounded FIFO of messages: one reader (the activation's turn loop), many writers; writers that find
/// it full wait in order for room. The subset of a bounded channel an activation needs, at a fraction of its size:
/// an idle channel costs about 700 bytes, an idle mailbox 40 (its queue is dropped when drained), which matters
/// with millions of resident actors. Locks on itself: the type is private to the actor host.
/// </summary>
internal sealed class Mailbox<T>(int capacity)
{
    private Queue<T>? _items;
    private LinkedList<(T Item, TaskCompletionSource Written)>? _waitingWriters;
    private bool _completed;

    public int Count
    {
        get
        {
            lock (this)
            {
                return _items?.Count ?? 0;
            }
        }
    }

    /// <summary>Completed and drained: nothing more will be read.</summary>
    public bool IsFinished
    {
        get
        {
            lock (this)
            {
                return _completed && (_items?.Count ?? 0) == 0;
            }
        }
    }

    public bool TryWrite(T item)
    {
        lock (this)
        {
            if (_completed || (_items?.Count ?? 0) >= capacity || _waitingWriters is { Count: > 0 })
            {
                return false;
            }
            (_items ??= new Queue<T>(4)).Enqueue(item);
            return true;
        }
    }

    /// <summary>Writes, waiting for room when full. Throws <see cref="ChannelClosedException"/> once completed.</summary>
    public async ValueTask WriteAsync(T item, CancellationToken cancellationToken)
    {
        LinkedListNode<(T, TaskCompletionSource)> node;
        lock (this)
        {
            if (_completed)
            {
                throw new ChannelClosedException();
            }
            if ((_items?.Count ?? 0) < capacity && _waitingWriters is not { Count: > 0 })
            {
                (_items ??= new Queue<T>(4)).Enqueue(item);
                return;
            }
            node = (_waitingWriters ??= new()).AddLast((item, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)));
        }
        var written = node.Value.Item2;
        await using (cancellationToken.Register(() =>
        {
            lock (this)
            {
                if (node.List is not null)
                {
                    node.List.Remove(node);
                    written.TrySetCanceled(cancellationToken);
                }
            }
        }))
        {
            await written.Task;
        }
    }

    public bool TryRead(out T item)
    {
        lock (this)
        {
            if (_items is not { Count: > 0 })
            {
                item = default!;
                return false;
            }
            item = _items.Dequeue();
            if (_waitingWriters?.First is { } first)
            {
                _waitingWriters.RemoveFirst();
                _items.Enqueue(first.Value.Item);
                first.Value.Written.TrySetResult();
            }
            else if (_items.Count == 0)
            {
                _items = null;
            }
            return true;
        }
    }

    /// <summary>No more writes: waiting writers fail with <see cref="ChannelClosedException"/>; queued messages can still be read.</summary>
    public void Complete()
    {
        lock (this)
        {
            if (_completed)
            {
                return;
            }
            _completed = true;
            if (_waitingWriters is not null)
            {
                foreach (var (_, written) in _waitingWriters)
                {
                    written.TrySetException(new ChannelClosedException());
                }
                _waitingWriters.Clear();
            }
        }
    }
}
