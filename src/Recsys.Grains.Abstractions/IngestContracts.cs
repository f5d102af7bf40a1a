using Recsys.Domain.Events;

namespace Recsys.Grains;

/// <summary>One user's events of an accepted request, in the order sent.</summary>
[GenerateSerializer, Immutable]
public sealed record EventBatch([property: Id(0)] IReadOnlyList<BehaviourEvent> Events);

/// <summary>Which events of a batch changed state (true) and which were replays (false), by position.</summary>
[GenerateSerializer, Immutable]
public sealed record IngestReceipt([property: Id(0)] bool[] Applied)
{
    public int AppliedCount => Applied.Count(static applied => applied);
}
