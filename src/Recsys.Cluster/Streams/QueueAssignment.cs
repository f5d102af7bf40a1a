using Orleans.Streams;

namespace Recsys.Cluster.Streams;

/// <summary>
/// The queues the balancer last gave this silo, by index in the stream. A provider whose receivers are Orleans' own
/// (Azure Queue storage) reports these as the queues it pulls.
/// </summary>
public sealed class QueueAssignment
{
    private int[] _indexes = [];

    public IReadOnlyList<int> Indexes => Volatile.Read(ref _indexes);

    public void Assign(List<QueueId> all, IEnumerable<QueueId> mine)
    {
        var indexes = mine.Select(q => all.IndexOf(q)).Where(static i => i >= 0).Order().ToArray();
        Volatile.Write(ref _indexes, indexes);
    }
}
