using Orleans.Runtime;
using Orleans.Streams;

namespace Recsys.Cluster.Streams;

/// <summary>
/// A queue cache that hands messages back to the receiver for acknowledgement only once no consumer is still
/// delivering them. Orleans' simple cache advances a cursor past a message before the consumer has it, so a purge
/// can release a message whose grain has not committed yet; acknowledging that to the broker would lose the event
/// if the silo died. This cache wraps the simple one (ordering, cursors, back pressure are its), counts the
/// deliveries each message is in (a cursor's current message stays in flight until the cursor moves on, which the
/// pulling agent does only after the consumer answered), and holds purged messages until that count is zero.
/// Messages whose delivery failed are returned too, marked, and go back to the broker.
/// </summary>
/// <remarks>The pulling agent calls a queue's cache from its own single-threaded scheduler: no locks.</remarks>
public sealed class AckAfterDeliveryCache(IQueueCache inner) : IQueueCache
{
    private readonly List<RabbitMqBatchContainer> _purgedInFlight = [];

    public int GetMaxAddCount() => inner.GetMaxAddCount();

    public void AddToCache(IList<IBatchContainer> messages) => inner.AddToCache(messages);

    public bool IsUnderPressure() => inner.IsUnderPressure();

    [Obsolete("Use TryGetCacheCursor instead.")]
    public IQueueCacheCursor GetCacheCursor(StreamId streamId, StreamSequenceToken? token) =>
        new DeliveryTrackingCursor(inner.GetCacheCursor(streamId, token));

    public QueueCacheCursorResult<IQueueCacheCursor> TryGetCacheCursor(StreamId streamId, StreamSequenceToken? token) =>
        Track(inner.TryGetCacheCursor(streamId, token));

    public QueueCacheCursorResult<IQueueCacheCursor> TryGetCacheCursorAtPosition(StreamId streamId, StreamSubscriptionStartPosition startPosition) =>
        Track(inner.TryGetCacheCursorAtPosition(streamId, startPosition));

    public void UpdateDeliveryProgress(StreamSequenceToken? earliestSubscriptionToken, DateTime utcNow) =>
        inner.UpdateDeliveryProgress(earliestSubscriptionToken, utcNow);

    private static QueueCacheCursorResult<IQueueCacheCursor> Track(QueueCacheCursorResult<IQueueCacheCursor> result) =>
        result.Kind == QueueCacheCursorResultKind.Success && result.Cursor is { } cursor
            ? QueueCacheCursorResult<IQueueCacheCursor>.FromCursor(new DeliveryTrackingCursor(cursor))
            : result;

    public bool TryPurgeFromCache(out IList<IBatchContainer> purgedItems)
    {
        if (inner.TryPurgeFromCache(out var purged) && purged is not null)
        {
            _purgedInFlight.AddRange(purged.OfType<RabbitMqBatchContainer>());
        }
        var done = new List<IBatchContainer>();
        _purgedInFlight.RemoveAll(message =>
        {
            if (message.InFlight > 0)
            {
                return false;
            }
            done.Add(message);
            return true;
        });
        purgedItems = done;
        return done.Count > 0;
    }

    private sealed class DeliveryTrackingCursor(IQueueCacheCursor cursor) : IQueueCacheCursor
    {
        private RabbitMqBatchContainer? _current;

        public IBatchContainer? GetCurrent(out Exception? exception)
        {
            var batch = cursor.GetCurrent(out exception);
            if (batch is RabbitMqBatchContainer message && !ReferenceEquals(message, _current))
            {
                Release();
                message.InFlight++;
                _current = message;
            }
            return batch;
        }

        [Obsolete("Use MoveNextWithResult instead.")]
        public bool MoveNext()
        {
            // The agent moves on only after the consumer answered for the current message.
            Release();
            return cursor.MoveNext();
        }

        public QueueCacheCursorMoveResult MoveNextWithResult()
        {
            Release();
            return cursor.MoveNextWithResult();
        }

        public void Refresh(StreamSequenceToken token) => cursor.Refresh(token);

        /// <summary>
        /// Not passed on: the simple cache would drop a failed message from its purge, and it would stay
        /// unacknowledged on the channel for good. Marked here, it goes back to the broker for another try.
        /// </summary>
        public void RecordDeliveryFailure()
        {
            if (_current is not null)
            {
                _current.DeliveryFailed = true;
            }
        }

        public void Dispose()
        {
            Release();
            cursor.Dispose();
        }

        private void Release()
        {
            if (_current is not null)
            {
                _current.InFlight--;
                _current = null;
            }
        }
    }
}
