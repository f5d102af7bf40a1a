using Recsys.Silo.Serving;

namespace Recsys.Silo.UnitTests;

public class MicroBatcherTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>A handler that squares its inputs, records batch sizes, and can be held shut by a gate.</summary>
    private sealed class Squarer
    {
        public ManualResetEventSlim Gate { get; } = new(true);
        public List<int> BatchSizes { get; } = [];
        public SemaphoreSlim Entered { get; } = new(0);

        public void Handle(IReadOnlyList<int> requests, int[] results)
        {
            Entered.Release();
            Gate.Wait(Deadline);
            lock (BatchSizes)
            {
                BatchSizes.Add(requests.Count);
            }
            for (var i = 0; i < requests.Count; i++)
            {
                results[i] = requests[i] * requests[i];
            }
        }
    }

    [Fact]
    public async Task Requests_that_arrive_while_a_batch_runs_are_served_together_and_each_gets_its_own_result()
    {
        var squarer = new Squarer();
        await using var batcher = new MicroBatcher<int, int>(_ => squarer.Handle, new MicroBatcherOptions { MaxBatchSize = 64, MaxDelay = TimeSpan.Zero });
        squarer.Gate.Reset();
        var first = batcher.InvokeAsync(1).AsTask();
        Assert.True(await squarer.Entered.WaitAsync(Deadline), "the first batch never started");
        var rest = Enumerable.Range(2, 20).Select(i => batcher.InvokeAsync(i).AsTask()).ToArray();
        await WaitUntil(() => batcher.QueueLength == 20);
        squarer.Gate.Set();
        Assert.Equal(1, await first);
        Assert.Equal(Enumerable.Range(2, 20).Select(i => i * i), await Task.WhenAll(rest));
        Assert.Equal([1, 20], squarer.BatchSizes);
        Assert.Equal(2, batcher.BatchesServed);
        Assert.Equal(21, batcher.RequestsServed);
    }

    [Fact]
    public async Task A_batch_never_exceeds_the_maximum_size()
    {
        var squarer = new Squarer();
        await using var batcher = new MicroBatcher<int, int>(_ => squarer.Handle, new MicroBatcherOptions { MaxBatchSize = 8, MaxDelay = TimeSpan.Zero });
        squarer.Gate.Reset();
        var first = batcher.InvokeAsync(0).AsTask();
        Assert.True(await squarer.Entered.WaitAsync(Deadline));
        var rest = Enumerable.Range(1, 20).Select(i => batcher.InvokeAsync(i).AsTask()).ToArray();
        await WaitUntil(() => batcher.QueueLength == 20);
        squarer.Gate.Set();
        await Task.WhenAll(rest.Append(first));
        Assert.Equal([1, 8, 8, 4], squarer.BatchSizes);
    }

    [Fact]
    public async Task A_lone_request_is_served_once_its_wait_for_company_ends()
    {
        var squarer = new Squarer();
        await using var batcher = new MicroBatcher<int, int>(_ => squarer.Handle, new MicroBatcherOptions { MaxBatchSize = 64, MaxDelay = TimeSpan.FromMilliseconds(2) });
        Assert.Equal(49, await batcher.InvokeAsync(7).AsTask().WaitAsync(Deadline));
        Assert.Equal([1], squarer.BatchSizes);
    }

    [Fact]
    public async Task A_failing_batch_fails_its_requests_and_the_worker_goes_on()
    {
        var calls = 0;
        await using var batcher = new MicroBatcher<int, int>(_ => (requests, results) =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                throw new InvalidOperationException("backend down");
            }
            results[0] = requests[0] + 1;
        }, new MicroBatcherOptions { MaxBatchSize = 1, MaxDelay = TimeSpan.Zero });
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.InvokeAsync(1).AsTask());
        Assert.Equal("backend down", error.Message);
        Assert.Equal(3, await batcher.InvokeAsync(2));
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached before the deadline");
            await Task.Delay(1);
        }
    }
}
