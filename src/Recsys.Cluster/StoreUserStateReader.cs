using Microsoft.Extensions.Logging;
using Recsys.Domain.Users;
using Recsys.Silo;
using Recsys.Silo.State;

namespace Recsys.Cluster;

/// <summary>
/// The gateway's read of a user's state in cluster mode: the committed row in the state store. When the database
/// cannot be reached within the read budget, the user is served as a cold user (trending), because a storefront
/// needs an answer more than a perfect one; the outage shows in readiness and the log.
/// </summary>
public sealed class StoreUserStateReader(IStateStore store, UserStateCodec codec, ILogger logger) : IUserStateReader
{
    private long _lastWarningTicks;

    public async ValueTask<UserSnapshot> ReadAsync(string userId, CancellationToken cancellationToken)
    {
        try
        {
            var stored = await store.ReadAsync(userId, cancellationToken);
            return stored is null ? UserSnapshot.ForUnknownUser(userId) : codec.Decode(stored.Data).Snapshot();
        }
        catch (ServiceUnavailableException ex)
        {
            var now = Environment.TickCount64;
            var last = Interlocked.Read(ref _lastWarningTicks);
            if (now - last > 5_000 && Interlocked.CompareExchange(ref _lastWarningTicks, now, last) == last)
            {
                logger.LogWarning("Serving cold-user recommendations while user state is unreadable: {Error}", ex.Message);
            }
            return UserSnapshot.ForUnknownUser(userId);
        }
    }
}
