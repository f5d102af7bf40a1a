using System.Runtime.InteropServices;
using Recsys.Domain.Events;
using Recsys.Domain.Users;

namespace Recsys.Domain.Recommendation;

public sealed record CoOccurrenceOptions
{
    /// <summary>How many of the user's previous distinct items a new behaviour is paired with.</summary>
    public int Lookback { get; init; } = 10;

    /// <summary>Neighbours kept per item; the weakest are pruned beyond twice this.</summary>
    public int MaxNeighbours { get; init; } = 200;

    /// <summary>Neighbours returned per item, strongest first.</summary>
    public int TopNeighbours { get; init; } = 30;

    /// <summary>How stale an item's ranked neighbour list may get while new pairs arrive.</summary>
    public TimeSpan RefreshInterval { get; init; } = TimeSpan.FromMilliseconds(250);
}

public readonly record struct Neighbour(int ItemIndex, float Similarity);

/// <summary>
/// Item-to-item co-occurrence in users' behaviour sequences, updated as events arrive. Similarity is
/// co(i,j)/√(S_i·S_j), where S is an item's total pair weight, so that best-sellers do not neighbour everything.
/// </summary>
public sealed class CoOccurrenceIndex
{
    private readonly CoOccurrenceOptions _options;
    private readonly long _refreshTicks;
    private readonly Lock _growGate = new();
    private Neighbourhood?[] _items = new Neighbourhood?[1024];

    public CoOccurrenceIndex(CoOccurrenceOptions options)
    {
        if (options.Lookback < 1 || options.MaxNeighbours < 1 || options.TopNeighbours < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "lookback and neighbour counts must be at least 1");
        }
        _options = options;
        _refreshTicks = (long)options.RefreshInterval.TotalMilliseconds;
    }

    public CoOccurrenceOptions Options => _options;

    /// <summary>Pairs <paramref name="current"/> with the user's previous distinct items (history oldest first, excluding current).</summary>
    public void Observe(ReadOnlySpan<BehaviourRecord> history, BehaviourRecord current)
    {
        if (current.ItemIndex < 0)
        {
            return;
        }
        Span<int> paired = stackalloc int[_options.Lookback];
        var pairedCount = 0;
        var currentWeight = current.Type.InterestWeight();
        for (var i = history.Length - 1; i >= 0 && pairedCount < _options.Lookback; i--)
        {
            var other = history[i].ItemIndex;
            if (other == current.ItemIndex || paired[..pairedCount].Contains(other))
            {
                continue;
            }
            paired[pairedCount++] = other;
            // Nearer behaviours say more about each other; stronger behaviours (cart, purchase) say more.
            var weight = MathF.Sqrt(currentWeight * history[i].Type.InterestWeight()) / pairedCount;
            GetOrCreate(current.ItemIndex).Add(other, weight, _options.MaxNeighbours);
            GetOrCreate(other).Add(current.ItemIndex, weight, _options.MaxNeighbours);
        }
    }

    /// <summary>The item's strongest neighbours, best first; empty when it has none.</summary>
    public ReadOnlySpan<Neighbour> Neighbours(int itemIndex)
    {
        var items = Volatile.Read(ref _items);
        if ((uint)itemIndex >= (uint)items.Length || Volatile.Read(ref items[itemIndex]) is not { } neighbourhood)
        {
            return [];
        }
        return neighbourhood.Top(this);
    }

    private float TotalWeight(int itemIndex)
    {
        var items = Volatile.Read(ref _items);
        return (uint)itemIndex < (uint)items.Length && Volatile.Read(ref items[itemIndex]) is { } n ? n.TotalWeight : 0f;
    }

    private Neighbourhood GetOrCreate(int itemIndex)
    {
        var items = Volatile.Read(ref _items);
        if ((uint)itemIndex < (uint)items.Length && Volatile.Read(ref items[itemIndex]) is { } existing)
        {
            return existing;
        }
        lock (_growGate)
        {
            items = _items;
            if (itemIndex >= items.Length)
            {
                var grown = new Neighbourhood?[Math.Max(items.Length * 2, itemIndex + 1)];
                Array.Copy(items, grown, items.Length);
                items = grown;
                Volatile.Write(ref _items, grown);
            }
            return items[itemIndex] ??= new Neighbourhood();
        }
    }

    private sealed class Neighbourhood
    {
        private readonly Lock _gate = new();
        private readonly Dictionary<int, float> _weights = [];
        private Neighbour[] _top = [];
        private long _topBuiltAt;
        private bool _dirty;

        public float TotalWeight { get; private set; }

        public void Add(int other, float weight, int maxNeighbours)
        {
            lock (_gate)
            {
                CollectionsMarshal.GetValueRefOrAddDefault(_weights, other, out _) += weight;
                TotalWeight += weight;
                _dirty = true;
                if (_weights.Count > 2 * maxNeighbours)
                {
                    Prune(maxNeighbours);
                }
            }
        }

        public ReadOnlySpan<Neighbour> Top(CoOccurrenceIndex index)
        {
            var top = Volatile.Read(ref _top);
            // A list is rebuilt when pairs arrived since, but not more often than the refresh interval once it has entries.
            if (!Volatile.Read(ref _dirty) || (top.Length > 0 && Environment.TickCount64 - Volatile.Read(ref _topBuiltAt) < index._refreshTicks))
            {
                return top;
            }
            KeyValuePair<int, float>[] weights;
            float total;
            lock (_gate)
            {
                weights = [.. _weights];
                total = TotalWeight;
                _dirty = false;
            }
            var ranked = new Neighbour[weights.Length];
            for (var i = 0; i < weights.Length; i++)
            {
                var otherTotal = index.TotalWeight(weights[i].Key);
                ranked[i] = new Neighbour(weights[i].Key, weights[i].Value / MathF.Sqrt(total * Math.Max(otherTotal, weights[i].Value)));
            }
            Array.Sort(ranked, static (a, b) => b.Similarity != a.Similarity ? b.Similarity.CompareTo(a.Similarity) : a.ItemIndex.CompareTo(b.ItemIndex));
            top = ranked.Length > index._options.TopNeighbours ? ranked[..index._options.TopNeighbours] : ranked;
            Volatile.Write(ref _top, top);
            Volatile.Write(ref _topBuiltAt, Environment.TickCount64);
            return top;
        }

        private void Prune(int keep)
        {
            var byWeight = _weights.OrderByDescending(static p => p.Value).Skip(keep).Select(static p => p.Key).ToList();
            foreach (var key in byWeight)
            {
                _weights.Remove(key);
            }
        }
    }
}
