namespace Recsys.Actors.UnitTests;

public class StatelessWorkerPoolTests
{
    private sealed class Worker
    {
        private static int s_running;
        private static int s_maxRunning;
        public static int MaxRunning => s_maxRunning;

        public int Id { get; init; }
        public int Handled { get; set; }

        public int Work(int value)
        {
            var running = Interlocked.Increment(ref s_running);
            InterlockedMax(ref s_maxRunning, running);
            Thread.SpinWait(2000);
            Handled++;
            Interlocked.Decrement(ref s_running);
            return value * 2;
        }

        private static void InterlockedMax(ref int target, int value)
        {
            int current;
            while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
            {
            }
        }
    }

    [Fact]
    public async Task Work_runs_on_at_most_the_pool_size_and_every_item_gets_its_own_result()
    {
        var workers = new List<Worker>();
        await using var pool = new StatelessWorkerPool<Worker>(id => { var w = new Worker { Id = id }; lock (workers) { workers.Add(w); } return w; }, 2, 16);
        var results = await Task.WhenAll(Enumerable.Range(0, 500).Select(i => Task.Run(() => pool.InvokeAsync(i, static (w, v) => w.Work(v)).AsTask())));
        Assert.Equal(Enumerable.Range(0, 500).Select(i => i * 2), results);
        Assert.True(Worker.MaxRunning <= 2, $"{Worker.MaxRunning} work items ran at once");
        Assert.Equal(500, workers.Sum(w => w.Handled)); // a worker's own fields need no locks: one item at a time
    }

    [Fact]
    public async Task A_failing_item_fails_its_caller_and_the_worker_goes_on()
    {
        await using var pool = new StatelessWorkerPool<int>(id => id, 1, 4);
        await Assert.ThrowsAsync<InvalidOperationException>(() => pool.InvokeAsync<int, int>(0, static (_, _) => throw new InvalidOperationException()).AsTask());
        Assert.Equal(42, await pool.InvokeAsync(41, static (_, v) => v + 1));
    }
}
