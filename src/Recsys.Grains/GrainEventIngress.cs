using Recsys.Domain.Events;

namespace Recsys.Grains;

/// <summary>The embedded default: one grain call per user and request, users in parallel; read-your-writes.</summary>
public sealed class GrainEventIngress(GrainReferences grains) : IEventIngress
{
    public async Task<IReadOnlyList<bool[]>?> SendAsync(IReadOnlyList<KeyValuePair<string, List<BehaviourEvent>>> byUser,
        CancellationToken cancellationToken)
    {
        var receipts = new Task<IngestReceipt>[byUser.Count];
        for (var i = 0; i < receipts.Length; i++)
        {
            receipts[i] = grains.User(byUser[i].Key).IngestAsync(new EventBatch(byUser[i].Value));
        }
        var done = await Task.WhenAll(receipts);
        return done.Select(static r => r.Applied).ToArray();
    }
}
