using Microsoft.Extensions.Logging;

namespace Recsys.Cluster;

/// <summary>
/// Waits for a service that is not there yet (a cluster starts in any order): retries with a doubling delay up to 5 s,
/// warning on the first failure and every tenth, until the attempt succeeds or the caller gives up.
/// </summary>
public static class ServiceRetry
{
    public static async Task<T> UntilAnsweredAsync<T>(Func<CancellationToken, Task<T>> attempt, Func<Exception, bool> unreachable,
        ILogger logger, string service, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        for (var failures = 1; ; failures++)
        {
            try
            {
                return await attempt(cancellationToken);
            }
            catch (Exception ex) when (unreachable(ex) && !cancellationToken.IsCancellationRequested)
            {
                if (failures == 1 || failures % 10 == 0)
                {
                    logger.LogWarning("{Service} is unreachable (attempt {Attempt}): {Error}; retrying", service, failures,
                        ex.InnerException?.Message ?? ex.Message);
                }
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }
}
