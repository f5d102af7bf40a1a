using Recsys.Domain.Events;

namespace Recsys.Domain.Recommendation;

/// <summary>
/// Popularity with exponential time decay. Each behaviour adds weight·e^((t−t₀)/τ), so all scores decay
/// together and only new events change the ranking; t₀ moves forward before the exponent overflows.
/// Readers get a ranked snapshot that is rebuilt at most every <see cref="RefreshInterval"/>.
/// </summary>
public sealed class TrendingIndex
{
    private const double MaxExponent = 60;
    private const double MinExponent = -60;
    private const int RankedCapacity = 5000;

    private readonly Lock _gate = new();
    private readonly double _tauMs;
    private readonly TimeProvider _clock;
    private double[] _scores = new double[1024];
    private int _itemCount;
    private long _referenceMs = long.MinValue;
    private long _version;
    private Ranked _ranked = new([], [], 0, -1);
    private int _refreshing;

    public TrendingIndex(TimeSpan halfLife, TimeProvider clock)
    {
        if (halfLife <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(halfLife), halfLife, "the trending half-life must be positive");
        }
        _tauMs = halfLife.TotalMilliseconds / Math.Log(2);
        _clock = clock;
    }

    public TimeSpan RefreshInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Items ranked by decayed popularity, best first, with scores scaled so the best is 1.</summary>
    public sealed record Ranked(int[] Items, float[] Scores, long Version, long BuiltAtMs);

    public void Record(int itemIndex, BehaviourType type, long timestampMs)
    {
        var weight = type.InterestWeight();
        if (weight <= 0 || itemIndex < 0)
        {
            return;
        }
        lock (_gate)
        {
            if (_referenceMs == long.MinValue)
            {
                _referenceMs = timestampMs;
            }
            var exponent = (timestampMs - _referenceMs) / _tauMs;
            if (exponent > MaxExponent)
            {
                Rebase(timestampMs);
                exponent = 0;
            }
            if (exponent < MinExponent)
            {
                return; // so old that it no longer counts against current behaviour
            }
            if (itemIndex >= _scores.Length)
            {
                Array.Resize(ref _scores, Math.Max(_scores.Length * 2, itemIndex + 1));
            }
            _scores[itemIndex] += weight * Math.Exp(exponent);
            _itemCount = Math.Max(_itemCount, itemIndex + 1);
            _version++;
        }
    }

    /// <summary>The current ranking; rebuilt lazily by one reader while others keep using the previous one.</summary>
    public Ranked GetRanked()
    {
        var ranked = Volatile.Read(ref _ranked);
        var nowMs = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        if (ranked.Version == Volatile.Read(ref _version) ||
            (ranked.BuiltAtMs >= 0 && nowMs - ranked.BuiltAtMs < RefreshInterval.TotalMilliseconds && ranked.Items.Length > 0))
        {
            return ranked;
        }
        if (Interlocked.CompareExchange(ref _refreshing, 1, 0) != 0)
        {
            return ranked;
        }
        try
        {
            ranked = Rebuild(nowMs);
            Volatile.Write(ref _ranked, ranked);
            return ranked;
        }
        finally
        {
            Volatile.Write(ref _refreshing, 0);
        }
    }

    /// <summary>The raw decayed score of one item (0 when never seen), for scans past the ranked list.</summary>
    public double ScoreOf(int itemIndex)
    {
        lock (_gate)
        {
            return itemIndex < _itemCount ? _scores[itemIndex] : 0;
        }
    }

    private Ranked Rebuild(long nowMs)
    {
        double[] scores;
        long version;
        lock (_gate)
        {
            scores = _scores.AsSpan(0, _itemCount).ToArray();
            version = _version;
        }
        var order = new int[scores.Length];
        var count = 0;
        for (var i = 0; i < scores.Length; i++)
        {
            if (scores[i] > 0)
            {
                order[count++] = i;
            }
        }
        var keys = new double[count];
        for (var i = 0; i < count; i++)
        {
            keys[i] = -scores[order[i]];
        }
        Array.Sort(keys, order, 0, count);
        var take = Math.Min(count, RankedCapacity);
        var items = order.AsSpan(0, take).ToArray();
        var normalised = new float[take];
        var best = take > 0 ? scores[items[0]] : 1;
        for (var i = 0; i < take; i++)
        {
            normalised[i] = (float)(scores[items[i]] / best);
        }
        return new Ranked(items, normalised, version, nowMs);
    }

    private void Rebase(long newReferenceMs)
    {
        var factor = Math.Exp((_referenceMs - newReferenceMs) / _tauMs);
        for (var i = 0; i < _itemCount; i++)
        {
            _scores[i] *= factor;
        }
        _referenceMs = newReferenceMs;
    }
}
