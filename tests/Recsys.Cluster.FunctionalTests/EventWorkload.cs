using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Recsys.Domain.Catalogue;
using Recsys.Domain.Events;
using Recsys.Domain.Users;

namespace Recsys.Cluster.FunctionalTests;

/// <summary>
/// A shop's event feed against the gateway: every user's events in a fixed order, posted in batches by several
/// concurrent senders (each owns a slice of the users, so a user's order is defined), resent on any failure as a
/// real pipeline does until the gateway answers 202. Afterwards every user's committed state must equal the replay of
/// their events, each applied exactly once.
/// </summary>
public sealed class EventWorkload(string prefix, int users, int eventsPerUser, int items = 500)
{
    /// <summary>Status recorded when a connection was refused (the request reached no server).</summary>
    public const int Refused = 0;

    /// <summary>Status recorded when a request failed after it reached a server (reset, closed mid-answer).</summary>
    public const int CutOff = -1;

    private readonly ConcurrentDictionary<int, int> _statuses = new();
    private int _gateway;
    private long _posted;

    public int Users => users;

    public int TotalEvents => users * eventsPerUser;

    /// <summary>Why the last cut-off request failed, for the report.</summary>
    public string? LastCutOff { get; private set; }

    /// <summary>Events the gateway acknowledged with 202.</summary>
    public long Acknowledged => Interlocked.Read(ref _posted);

    /// <summary>Every answer the gateways gave, by status code (<see cref="Refused"/>, <see cref="CutOff"/>: no answer).</summary>
    public IReadOnlyDictionary<int, int> Statuses => _statuses;

    public string UserId(int user) => $"{prefix}-u{user:D5}";

    private static readonly DateTimeOffset Start = new(2026, 11, 1, 8, 0, 0, TimeSpan.Zero);

    private static readonly string[] Types = ["view", "view", "click", "view", "cart", "search", "view", "purchase"];

    /// <summary>Event n of a user: deterministic, so the test knows exactly what the state must hold.</summary>
    public (string EventId, string ItemId, string Type, DateTimeOffset Timestamp) Event(int user, int n) =>
        ($"{prefix}-e{user}-{n}", $"item-{(user * 31 + n * 17) % items}", Types[(user + n) % Types.Length], Start.AddSeconds(user + n * 60.0));

    /// <summary>Posts everything with <paramref name="senders"/> concurrent senders, <paramref name="pause"/> between a sender's batches.</summary>
    public Task PostAllAsync(HttpClient gateway, int senders, int batchSize, TimeSpan pause, CancellationToken cancellationToken) =>
        PostAllAsync([gateway], senders, batchSize, pause, cancellationToken);

    /// <summary>As above, moving to the next gateway when one gives no answer (as a load balancer would).</summary>
    public async Task PostAllAsync(HttpClient[] gateways, int senders, int batchSize, TimeSpan pause, CancellationToken cancellationToken)
    {
        await Task.WhenAll(Enumerable.Range(0, senders).Select(sender => Task.Run(async () =>
        {
            var mine = Enumerable.Range(0, users).Where(u => u % senders == sender).ToArray();
            var batch = new List<object>(batchSize);
            for (var n = 0; n < eventsPerUser; n++)
            {
                foreach (var user in mine)
                {
                    var e = Event(user, n);
                    batch.Add(new { eventId = e.EventId, userId = UserId(user), itemId = e.ItemId, type = e.Type, timestamp = e.Timestamp.ToString("O"),
                        query = e.Type == "search" ? "controller" : null });
                    if (batch.Count == batchSize)
                    {
                        await SendUntilAcceptedAsync(gateways, batch, cancellationToken);
                        batch.Clear();
                        if (pause > TimeSpan.Zero)
                        {
                            await Task.Delay(pause, cancellationToken);
                        }
                    }
                }
            }
            if (batch.Count > 0)
            {
                await SendUntilAcceptedAsync(gateways, batch, cancellationToken);
            }
        }, cancellationToken)));
    }

    private async Task SendUntilAcceptedAsync(HttpClient[] gateways, List<object> batch, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.Serialize(batch);
        while (true)
        {
            int status;
            var gateway = Volatile.Read(ref _gateway);
            try
            {
                using var response = await gateways[gateway].PostAsync("/v1/events", new StringContent(body, Encoding.UTF8, "application/json"), cancellationToken);
                status = (int)response.StatusCode;
            }
            catch (HttpRequestException ex)
            {
                // Refused: nobody listens there (the request never reached a server). Anything else: a request cut off.
                status = ex.InnerException is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused }
                    ? Refused
                    : CutOff;
                if (status == CutOff)
                {
                    LastCutOff = ex.InnerException?.Message ?? ex.Message;
                }
                Interlocked.CompareExchange(ref _gateway, (gateway + 1) % gateways.Length, gateway);
            }
            _statuses.AddOrUpdate(status, 1, static (_, count) => count + 1);
            if (status == (int)HttpStatusCode.Accepted)
            {
                Interlocked.Add(ref _posted, batch.Count);
                return;
            }
            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>
    /// Polls the state database until every user's committed state holds all their events, then checks each one equals
    /// the replay: the event count (an event applied twice would show), and the window's items, types and times in order.
    /// </summary>
    public Task AssertEveryUserAppliedExactlyOnceAsync(TestDatabase database, TimeSpan within) =>
        AssertEveryUserAppliedExactlyOnceAsync(new PostgresCommittedStates(database), within);

    public async Task AssertEveryUserAppliedExactlyOnceAsync(ICommittedStates committed, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        var registry = new ItemRegistry();
        var codec = new UserStateCodec(registry, new UserStateOptions(), TimeProvider.System);
        Dictionary<string, UserState> states;
        while (true)
        {
            states = [];
            await foreach (var data in committed.ReadAllAsync())
            {
                var state = codec.Decode(data);
                states[state.UserId] = state;
            }
            var complete = states.Count == users && states.Values.All(s => s.EventCount >= eventsPerUser);
            if (complete || DateTime.UtcNow > deadline)
            {
                break;
            }
            await Task.Delay(250);
        }
        var problems = new List<string>();
        for (var user = 0; user < users && problems.Count < 10; user++)
        {
            if (!states.TryGetValue(UserId(user), out var state))
            {
                problems.Add($"{UserId(user)}: no state committed");
                continue;
            }
            if (state.EventCount != eventsPerUser)
            {
                problems.Add($"{UserId(user)}: {state.EventCount} events applied, sent {eventsPerUser}");
                continue;
            }
            var window = state.Window.ToArray();
            for (var n = 0; n < eventsPerUser; n++)
            {
                var expected = Event(user, n);
                var actual = window[n];
                if (registry.GetId(actual.ItemIndex) != expected.ItemId || actual.Type.ToWireName() != expected.Type ||
                    actual.TimestampMs != expected.Timestamp.ToUnixTimeMilliseconds())
                {
                    problems.Add($"{UserId(user)}: event {n} is {registry.GetId(actual.ItemIndex)}/{actual.Type.ToWireName()}, expected {expected.ItemId}/{expected.Type}");
                    break;
                }
            }
        }
        Assert.True(problems.Count == 0, $"{problems.Count}+ users differ from the replay of their events:\n{string.Join("\n", problems)}");
    }
}
