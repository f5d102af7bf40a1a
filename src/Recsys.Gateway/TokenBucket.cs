using System.Diagnostics;

namespace Recsys.Gateway;

/// <summary>
/// A token bucket for one key's reads or writes (<c>perSecond</c> a second, bursts up to <c>burst</c>), kept as the
/// generic cell rate algorithm: one timestamp, advanced by compare-and-swap, so concurrent requests of one key never
/// wait on a lock and nothing is allocated (ASP.NET's partitioned limiter cost a tenth of the read path here).
/// </summary>
public sealed class TokenBucket
{
    private readonly long _interval; // Stopwatch ticks one request earns
    private readonly long _tolerance; // how far ahead of now the schedule may run: the burst
    private long _theoreticalArrival;

    public TokenBucket(int perSecond, int burst)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perSecond, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        _interval = Math.Max(1, Stopwatch.Frequency / perSecond);
        _tolerance = _interval * (burst - 1);
        _theoreticalArrival = Stopwatch.GetTimestamp();
    }

    /// <summary>Takes a token; false with the wait until the next one when the bucket is empty.</summary>
    public bool TryTake(out TimeSpan retryAfter)
    {
        var now = Stopwatch.GetTimestamp();
        while (true)
        {
            var current = Volatile.Read(ref _theoreticalArrival);
            var start = Math.Max(current, now);
            if (start - now > _tolerance)
            {
                retryAfter = Stopwatch.GetElapsedTime(now, start - _tolerance);
                return false;
            }
            if (Interlocked.CompareExchange(ref _theoreticalArrival, start + _interval, current) == current)
            {
                retryAfter = TimeSpan.Zero;
                return true;
            }
        }
    }
}
