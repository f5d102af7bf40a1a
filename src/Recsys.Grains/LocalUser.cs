using Recsys.Domain.Users;
using Recsys.Silo.Serving;

namespace Recsys.Grains;

/// <summary>
/// What a user grain active on this silo publishes for reads: the immutable snapshot of its last commit and its intent
/// slot. A read on the same silo uses it without a grain call; it never sees an event that is not committed.
/// </summary>
public sealed class LocalUser(string userId, UserSnapshot committed)
{
    private UserSnapshot _committed = committed;

    public string UserId { get; } = userId;

    public UserSnapshot Committed => Volatile.Read(ref _committed);

    public IntentSlot Intent { get; } = new();

    internal void Commit(UserSnapshot committed) => Volatile.Write(ref _committed, committed);
}
