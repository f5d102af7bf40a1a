namespace Recsys.Actors;

/// <summary>
/// An actor's lifecycle, as Orleans' grain lifecycle: activation runs before the first turn (load state),
/// deactivation after the last one (persist state). Both run inside the actor's single-threaded turn order.
/// </summary>
public interface IActor
{
    ValueTask OnActivateAsync(CancellationToken cancellationToken);

    ValueTask OnDeactivateAsync(CancellationToken cancellationToken);
}

public sealed record ActorHostOptions
{
    /// <summary>Messages an actor may have queued before senders wait (backpressure).</summary>
    public int MailboxCapacity { get; init; } = 256;

    /// <summary>How long a sender waits for room in a full mailbox before <see cref="MailboxFullException"/>.</summary>
    public TimeSpan FullMailboxWait { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>An actor with no turn for this long is deactivated (its state persisted, its memory freed).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How often the host looks for idle actors.</summary>
    public TimeSpan CollectionInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How long shutdown waits for each actor's last turns and deactivation.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public void Validate()
    {
        if (MailboxCapacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MailboxCapacity), MailboxCapacity, "a mailbox must hold at least one message");
        }
        if (IdleTimeout <= TimeSpan.Zero || CollectionInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(IdleTimeout), "idle timeout and collection interval must be positive");
        }
    }
}

/// <summary>The actor's mailbox stayed full for the configured wait: the caller should back off and retry.</summary>
public sealed class MailboxFullException(string message) : Exception(message);
