using Azure;
using Azure.Storage.Queues;
using Microsoft.Extensions.Logging;
using Recsys.Cluster.Streams;

namespace Recsys.Cluster.AzureStorage;

/// <summary>
/// The event stream on Azure Queue storage: Orleans' Azure Queue provider publishes and pulls; this creates the
/// queues before pulling starts (waiting while the service is unreachable), and probes the service for readiness.
/// </summary>
public sealed class AzureQueueBroker(ClusterModeOptions options, QueueAssignment assignment, ILogger<AzureQueueBroker> logger)
    : IEventStreamBroker, IAsyncDisposable
{
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(5);

    private readonly QueueServiceClient _service = new(options.AzureStorage);
    private readonly CancellationTokenSource _stopping = new();
    private volatile bool _reachable;
    private Task _probing = Task.CompletedTask;

    public string Name => "Azure Queue storage";

    public bool IsConnected => _reachable;

    public IReadOnlyList<int> PulledQueues => assignment.Indexes;

    /// <summary>
    /// An Azure queue message holds 64 KB of text; Orleans' provider base64-encodes its serialized batch, which leaves
    /// 48 KB of bytes, and the budget keeps a margin for the batch container's own fields.
    /// </summary>
    public int MaxMessageBytes => 40 * 1024;

    private IReadOnlyList<string> QueueNames { get; } = options.AzureQueueNames();

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await ServiceRetry.UntilAnsweredAsync(async ct =>
        {
            foreach (var name in QueueNames)
            {
                await _service.GetQueueClient(name).CreateIfNotExistsAsync(cancellationToken: ct);
            }
            return 0;
        }, Unreachable, logger, $"Azure Queue storage at {_service.Uri}", cancellationToken);
        _reachable = true;
        logger.LogInformation("Event stream on Azure Queue storage: {Queues} queues named {First}..", options.Queues, QueueNames[0]);
        _probing = ProbeAsync(_stopping.Token);
    }

    private async Task ProbeAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(ProbeInterval, stopping);
                await _service.GetQueueClient(QueueNames[0]).GetPropertiesAsync(stopping);
                _reachable = true;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (Unreachable(ex))
            {
                if (_reachable)
                {
                    logger.LogWarning("Azure Queue storage stopped answering: {Error}", ex.Message);
                }
                _reachable = false;
            }
        }
    }

    private static bool Unreachable(Exception ex) => ex is RequestFailedException or AggregateException or HttpRequestException;

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _probing;
        _stopping.Dispose();
    }
}
