namespace Recsys.Gateway.FunctionalTests;

public sealed class TokenBucketTests
{
    [Fact]
    public void A_burst_is_served_then_refused_with_the_wait_for_the_next_token()
    {
        var bucket = new TokenBucket(perSecond: 1, burst: 5);
        for (var i = 0; i < 5; i++)
        {
            Assert.True(bucket.TryTake(out _), $"take {i} of the burst");
        }
        Assert.False(bucket.TryTake(out var retryAfter));
        Assert.InRange(retryAfter, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void Concurrent_takes_never_exceed_the_burst()
    {
        // 1 token a second: during the test at most a few more than the burst can have been earned.
        var bucket = new TokenBucket(perSecond: 1, burst: 100);
        var taken = 0;
        Parallel.For(0, 8, worker =>
        {
            for (var i = 0; i < 200; i++)
            {
                if (bucket.TryTake(out _))
                {
                    Interlocked.Increment(ref taken);
                }
            }
        });
        Assert.InRange(taken, 100, 103);
    }
}
