using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Streams;

namespace Recsys.Cluster.Streams;

/// <summary>
/// Spreads the event queues over the worker silos only. Orleans' deployment-based balancer cannot leave silos out
/// (it throws when a live silo, here a gateway, is missing from its list, and then never applies a change), so this
/// balancer keeps Orleans' pieces and drops that assumption: membership changes come from Orleans
/// (<see cref="QueueBalancerBase"/>), and the split is a pure function of the active workers' names, so every silo
/// computes the same split from the same membership. While a queue moves,
/// single active consumer keeps one reader at a time and the event-id dedup absorbs any redelivery.
/// </summary>
public sealed class WorkerQueueBalancer(
    IServiceProvider services,
    WorkerSiloDeployment workers,
    QueueAssignment assignment,
    ILocalSiloDetails local,
    ILogger<WorkerQueueBalancer> logger) : QueueBalancerBase(services, logger), IStreamQueueBalancer
{
    private List<QueueId> _queues = [];

    public override Task Initialize(IStreamQueueMapper queueMapper)
    {
        _queues = queueMapper.GetAllQueues().OrderBy(static q => q.GetNumericId()).ToList();
        return base.Initialize(queueMapper);
    }

    public override IEnumerable<QueueId> GetMyQueues()
    {
        var names = workers.GetAllSiloNames();
        // Queue i goes to the i-th worker (names sorted, round robin): every silo derives the same split.
        var me = names.IndexOf(local.Name);
        var mine = me < 0 ? [] : _queues.Where((_, i) => i % names.Count == me).ToArray();
        assignment.Assign(_queues, mine);
        return mine;
    }

    protected override void OnClusterMembershipChange(HashSet<SiloAddress> activeSilos) => NotifySoonAsync().Ignore();

    /// <summary>A joining silo's roles are looked up as it appears; ask the pulling manager again once they are known.</summary>
    private async Task NotifySoonAsync()
    {
        await NotifyListeners();
        await Task.Delay(TimeSpan.FromSeconds(1));
        await NotifyListeners();
    }
}
