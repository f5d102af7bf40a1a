using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Providers.Streams.Common;
using Orleans.Streams;

namespace Recsys.Cluster.Streams;

/// <summary>
/// Plugs RabbitMQ into Orleans' persistent streams: the adapter publishes with confirms, receivers pull the queues
/// the queue balancer assigns to this silo, and the cache acknowledges only delivered messages. Which silo pulls which
/// queue follows Orleans membership (see <see cref="WorkerQueueBalancer"/>).
/// </summary>
public sealed class RabbitMqQueueAdapterFactory : IQueueAdapterFactory
{
    private readonly RabbitMqQueueAdapter _adapter;
    private readonly IQueueAdapterCache _cache;

    public RabbitMqQueueAdapterFactory(RabbitMqQueueAdapter adapter, ClusterModeOptions options, ILoggerFactory loggers)
    {
        _adapter = adapter;
        // Ten buckets of cursors over a cache the size of the prefetch: small buckets, so a purge (and with it the
        // acknowledgements) follows delivery closely.
        _cache = new AckingAdapterCache(new SimpleQueueAdapterCache(
            new SimpleQueueCacheOptions { CacheSize = Math.Max(10, (int)options.Prefetch) }, adapter.Name, loggers));
    }

    /// <summary>What <c>AddPersistentStreams</c> calls, once per provider.</summary>
    public static IQueueAdapterFactory Create(IServiceProvider services, string name) =>
        ActivatorUtilities.CreateInstance<RabbitMqQueueAdapterFactory>(services);

    public Task<IQueueAdapter> CreateAdapter() => Task.FromResult<IQueueAdapter>(_adapter);

    public IQueueAdapterCache GetQueueAdapterCache() => _cache;

    public IStreamQueueMapper GetStreamQueueMapper() => _adapter.Mapper;

    /// <summary>A delivery that keeps failing is logged and its message goes back to the broker (see the cache).</summary>
    public Task<IStreamFailureHandler> GetDeliveryFailureHandler(QueueId queueId) =>
        Task.FromResult<IStreamFailureHandler>(new NoOpStreamDeliveryFailureHandler(false));

    private sealed class AckingAdapterCache(IQueueAdapterCache inner) : IQueueAdapterCache
    {
        public IQueueCache CreateQueueCache(QueueId queueId) => new AckAfterDeliveryCache(inner.CreateQueueCache(queueId));
    }
}
