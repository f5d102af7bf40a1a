using System.Threading.Channels;

namespace Recsys.Actors.UnitTests;

public class MailboxTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private static List<int> Drain(Mailbox<int> mailbox)
    {
        var read = new List<int>();
        while (mailbox.TryRead(out var item))
        {
            read.Add(item);
        }
        return read;
    }

    [Fact]
    public async Task Writers_that_wait_for_room_get_in_in_the_order_they_came()
    {
        var mailbox = new Mailbox<int>(2);
        Assert.True(mailbox.TryWrite(1));
        Assert.True(mailbox.TryWrite(2));
        Assert.False(mailbox.TryWrite(99));
        var waiting = new[] { mailbox.WriteAsync(3, default).AsTask(), mailbox.WriteAsync(4, default).AsTask(), mailbox.WriteAsync(5, default).AsTask() };
        Assert.All(waiting, t => Assert.False(t.IsCompleted));
        Assert.False(mailbox.TryWrite(6)); // no overtaking the writers that wait

        Assert.True(mailbox.TryRead(out var first));
        Assert.Equal(1, first);
        await waiting[0].WaitAsync(Deadline);
        Assert.False(waiting[1].IsCompleted);
        Assert.Equal([2, 3, 4, 5], Drain(mailbox));
        await Task.WhenAll(waiting).WaitAsync(Deadline);
        Assert.Equal(0, mailbox.Count);
    }

    [Fact]
    public async Task A_cancelled_writer_leaves_the_queue_and_its_message_is_never_read()
    {
        var mailbox = new Mailbox<int>(1);
        Assert.True(mailbox.TryWrite(1));
        using var cancel = new CancellationTokenSource();
        var cancelled = mailbox.WriteAsync(2, cancel.Token).AsTask();
        var kept = mailbox.WriteAsync(3, default).AsTask();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Deadline));
        Assert.Equal([1, 3], Drain(mailbox));
        await kept.WaitAsync(Deadline);
    }

    [Fact]
    public async Task Completing_fails_waiting_and_later_writers_but_queued_messages_are_still_read()
    {
        var mailbox = new Mailbox<int>(1);
        Assert.True(mailbox.TryWrite(1));
        var waiting = mailbox.WriteAsync(2, default).AsTask();
        mailbox.Complete();
        await Assert.ThrowsAsync<ChannelClosedException>(() => waiting.WaitAsync(Deadline));
        await Assert.ThrowsAsync<ChannelClosedException>(() => mailbox.WriteAsync(3, default).AsTask());
        Assert.False(mailbox.TryWrite(4));
        Assert.False(mailbox.IsFinished);
        Assert.Equal([1], Drain(mailbox));
        Assert.True(mailbox.IsFinished);
    }
}
