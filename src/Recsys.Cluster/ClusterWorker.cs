using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using Recsys.Actors;
using Recsys.Silo;

namespace Recsys.Cluster;

/// <summary>
/// The worker side of a silo: subscribes to every partition (single active consumer grants each to one silo) and
/// keeps this silo's share fair. RabbitMQ never moves a partition to a silo that joins later, so a silo holding more
/// than ceil(partitions / live silos) hands the excess back.
/// </summary>
public sealed class ClusterWorker : IAsyncDisposable
{
    private readonly ClusterOptions _options;
    private readonly ActorHost<string, UserActor> _users;
    private readonly ILogger _logger;
    private readonly PartitionConsumer[] _partitions;
    private readonly CancellationTokenSource _stopping = new();
    private IConnection? _connection;
    private IChannel? _control;
    private Task? _rebalancing;
    private volatile int _liveSilos;

    public ClusterWorker(ClusterOptions options, ActorHost<string, UserActor> users, ILogger logger)
    {
        _options = options;
        _users = users;
        _logger = logger;
        _partitions = Enumerable.Range(0, options.Partitions).Select(p => new PartitionConsumer(p, options, users, Counters, logger)).ToArray();
    }

    public WorkerCounters Counters { get; } = new();

    /// <summary>Partitions whose active consumer is this silo, as far as deliveries have shown.</summary>
    public IReadOnlyList<int> OwnedPartitions => _partitions.Where(static p => p.IsOwned).Select(static p => p.Partition).ToArray();

    /// <summary>Silos subscribed to the stream at the last rebalance check, this one included.</summary>
    public int LiveSilos => _liveSilos;

    public bool IsConnected => _connection?.IsOpen == true;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _connection = await EventStream.ConnectAsync(_options, "worker", _logger, cancellationToken);
        _control = await _connection.CreateChannelAsync(cancellationToken: cancellationToken);
        await EventStream.DeclareAsync(_control, _options, cancellationToken);
        // Presence: every worker consumes from one plain queue, whose consumer count is then the number of live
        // workers (RabbitMQ drops a dead silo's consumer with its connection). A single-active-consumer queue only
        // counts its active consumer, so the partitions cannot tell this.
        await _control.QueueDeclareAsync(EventStream.WorkersQueueName(_options), durable: false, exclusive: false, autoDelete: false,
            cancellationToken: cancellationToken);
        await _control.BasicConsumeAsync(EventStream.WorkersQueueName(_options), autoAck: true, new RabbitMQ.Client.Events.AsyncEventingBasicConsumer(_control),
            cancellationToken);
        foreach (var partition in _partitions)
        {
            await partition.SubscribeAsync(_connection, cancellationToken);
        }
        _logger.LogInformation("Worker {Silo} subscribed to {Partitions} partitions of {Stream}", _options.EffectiveSiloName, _partitions.Length, _options.StreamName);
        _rebalancing = RebalanceLoopAsync(_stopping.Token);
    }

    /// <summary>
    /// Compares this silo's partitions with its fair share: above it, hands the excess over; at it, leaves the queue
    /// of standbys on the partitions it does not own; below it, joins them. Single active consumer gives a freed
    /// partition to the longest-waiting standby, so only silos short of their share may wait, or a partition would
    /// bounce between full silos and never reach one that joined later. Returns how many subscriptions changed.
    /// </summary>
    public async Task<int> RebalanceOnceAsync(CancellationToken cancellationToken)
    {
        if (_connection is not { IsOpen: true } connection || _control is not { IsOpen: true } control)
        {
            return 0;
        }
        var silos = Math.Max(1, (int)await control.ConsumerCountAsync(EventStream.WorkersQueueName(_options), cancellationToken));
        _liveSilos = silos;
        var fairShare = (_partitions.Length + silos - 1) / silos;
        var owned = _partitions.Where(static p => p.IsOwned).ToArray();
        if (owned.Length > fairShare)
        {
            var released = owned[fairShare..];
            _logger.LogInformation("Holding {Owned} partitions, fair share {Fair} of {Total} across {Silos} silos: handing over {Released}",
                owned.Length, fairShare, _partitions.Length, silos, string.Join(", ", released.Select(static p => p.Partition)));
            await Task.WhenAll(released.Select(p => p.ReleaseAsync(cancellationToken)));
            return released.Length;
        }
        if (owned.Length == fairShare)
        {
            var standing = _partitions.Where(static p => p.IsSubscribed && !p.IsOwned).ToArray();
            await Task.WhenAll(standing.Select(p => p.ReleaseAsync(cancellationToken)));
            return standing.Length;
        }
        var idle = _partitions.Where(static p => !p.IsSubscribed).ToArray();
        foreach (var partition in idle)
        {
            await partition.SubscribeAsync(connection, cancellationToken);
        }
        if (idle.Length > 0)
        {
            _logger.LogInformation("Holding {Owned} partitions, fair share {Fair} across {Silos} silos: standing by for {Count} more",
                owned.Length, fairShare, silos, idle.Length);
        }
        return idle.Length;
    }

    private async Task RebalanceLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.RebalanceInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    await RebalanceOnceAsync(cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    _logger.LogWarning("Rebalance check failed: {Error}; trying again in {Interval} s", ex.Message, _options.RebalanceInterval.TotalSeconds);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Graceful stop: no new deliveries, in-flight messages committed and acked, partitions released (they move to
    /// the other silos at once), actors deactivated; gives up waiting after <see cref="ClusterOptions.ShutdownTimeout"/>
    /// (unacked messages are then redelivered elsewhere, so nothing is lost either way).
    /// </summary>
    public async Task StopAsync()
    {
        await _stopping.CancelAsync();
        if (_rebalancing is not null)
        {
            await _rebalancing;
        }
        using var timeout = new CancellationTokenSource(_options.ShutdownTimeout);
        try
        {
            await Task.WhenAll(_partitions.Select(p => p.ReleaseAsync(timeout.Token)));
            _logger.LogInformation("Worker {Silo} released its partitions after committing in-flight messages ({Applied} events applied, {Duplicates} duplicates)",
                _options.EffectiveSiloName, Counters.Applied, Counters.Duplicates);
        }
        catch (OperationCanceledException)
        {
            _logger.LogWarning("Shutdown timeout: closing with messages in flight; the broker redelivers them to the other silos");
        }
        if (_connection is not null)
        {
            await _connection.CloseAsync(CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_control is not null)
        {
            await _control.DisposeAsync();
        }
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
        foreach (var partition in _partitions)
        {
            partition.Dispose();
        }
        _stopping.Dispose();
    }
}
