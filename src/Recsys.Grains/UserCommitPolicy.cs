namespace Recsys.Grains;

/// <summary>
/// When a user grain writes its record. On durable storage (cluster mode) every ingestion is committed before it is
/// acknowledged. When the storage is this process's memory (the embedded default), a write before the answer would
/// guard against nothing a crash does not take with it, and keeping a second, encoded copy of every active user
/// churned the old heap (see bench/README): the grain writes its record when it deactivates, for its next activation.
/// </summary>
public sealed record UserCommitPolicy(bool CommitBeforeAcknowledging)
{
    public static readonly UserCommitPolicy Durable = new(true);

    public static readonly UserCommitPolicy InProcessMemory = new(false);
}
