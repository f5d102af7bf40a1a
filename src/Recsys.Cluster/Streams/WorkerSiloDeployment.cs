using System.Collections.Concurrent;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Recsys.Grains;

namespace Recsys.Cluster.Streams;

/// <summary>
/// The silos the event queues are spread over: the active members whose metadata names the worker role. Gateway and
/// inference-only silos pull nothing. The balancer asks from the pulling manager's own turn, which must not wait on a
/// metadata fetch: roles are looked up off that turn as members appear, and the answer uses what is known.
/// </summary>
public sealed class WorkerSiloDeployment
{
    private readonly IClusterMembershipService _membership;
    private readonly ConcurrentDictionary<SiloAddress, bool> _isWorker = new();

    public WorkerSiloDeployment(IClusterMembershipService membership, ISiloMetadataCache metadata)
    {
        _membership = membership;
        _ = Task.Run(async () =>
        {
            await foreach (var snapshot in membership.MembershipUpdates)
            {
                foreach (var member in snapshot.Members.Values)
                {
                    if (!_isWorker.ContainsKey(member.SiloAddress) && member.Status is SiloStatus.Active or SiloStatus.Joining)
                    {
                        var roles = metadata.GetSiloMetadata(member.SiloAddress).Metadata.GetValueOrDefault(SiloRoles.MetadataKey);
                        if (roles is not null)
                        {
                            _isWorker[member.SiloAddress] = SiloRoles.Includes(roles, SiloRoles.Worker);
                        }
                    }
                }
            }
        });
    }

    public IList<string> GetAllSiloNames()
    {
        var names = new List<string>();
        foreach (var member in _membership.CurrentSnapshot.Members.Values)
        {
            // Active only, the set Orleans' balancer base reports changes of: a worker that starts shutting down gives its
            // queues up at once (the others' consumers wait for its channels to close), and its later death changes nothing.
            if (member.Status == SiloStatus.Active && _isWorker.TryGetValue(member.SiloAddress, out var worker) && worker)
            {
                names.Add(member.Name);
            }
        }
        names.Sort(StringComparer.Ordinal);
        return names;
    }
}
