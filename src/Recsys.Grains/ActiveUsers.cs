namespace Recsys.Grains;

/// <summary>How many user grains this silo holds in memory (a gauge; Orleans counts activations of every type).</summary>
public sealed class ActiveUsers
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    internal void Activated() => Interlocked.Increment(ref _count);

    internal void Deactivated() => Interlocked.Decrement(ref _count);
}
