namespace Recsys.Tests.Shared;

/// <summary>Waits for a condition with a deadline, failing with what was awaited: the tests' only synchronisation.</summary>
public static class Poll
{
    public static Task UntilAsync(Func<bool> condition, TimeSpan within, string what) =>
        UntilAsync(() => Task.FromResult(condition()), within, what);

    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan within, string what)
    {
        var deadline = DateTime.UtcNow + within;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out after {within.TotalSeconds:0} s waiting for {what}");
            await Task.Delay(100);
        }
    }
}
