using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Recsys.Domain.Events;
using Recsys.Domain.Users;

namespace Recsys.Tests.Shared;

/// <summary>Sends <see cref="HostileTraffic"/> to a server and keeps what came back: counts by endpoint and status, and any 5xx.</summary>
public sealed class FuzzRun(HttpClient client, HostileTraffic traffic)
{
    private readonly Dictionary<(string Endpoint, int Status), int> _counts = [];

    public List<string> ServerErrors { get; } = [];

    public int Sent { get; private set; }

    public async Task SendAsync(int requests, CancellationToken cancellationToken)
    {
        for (var i = 0; i < requests; i++)
        {
            var request = traffic.Next();
            using var message = new HttpRequestMessage(request.Method, request.Path);
            if (request.Body is not null)
            {
                message.Content = new ByteArrayContent(request.Body);
                if (request.ContentType is not null)
                {
                    message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
                }
            }
            if (!string.IsNullOrEmpty(request.Key))
            {
                message.Headers.TryAddWithoutValidation("X-Api-Key", request.Key);
            }
            using var response = await client.SendAsync(message, cancellationToken);
            var status = (int)response.StatusCode;
            traffic.Observe(request, response.StatusCode);
            var key = (request.Endpoint, status);
            _counts[key] = _counts.GetValueOrDefault(key) + 1;
            Sent++;
            if (status >= 500 && ServerErrors.Count < 20)
            {
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                ServerErrors.Add($"{request.Kind}: {request.Method} {request.Path} -> {status} {body[..Math.Min(300, body.Length)]}");
            }
        }
    }

    /// <summary>Requests by endpoint and status, one line per endpoint (the figures of a run).</summary>
    public string Table()
    {
        var text = new StringBuilder();
        foreach (var endpoint in _counts.GroupBy(static c => c.Key.Endpoint).OrderByDescending(static g => g.Sum(static c => c.Value)))
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{endpoint.Key,-40} {endpoint.Sum(static c => c.Value),6}:");
            foreach (var (key, count) in endpoint.OrderBy(static c => c.Key.Status))
            {
                text.Append(System.Globalization.CultureInfo.InvariantCulture, $" {key.Status}x{count}");
            }
            text.AppendLine();
        }
        return text.ToString();
    }

    /// <summary>Each tracked user's exported state against the replay of their accepted events; the differences found.</summary>
    public async Task<List<string>> CompareTrackedUsersAsync(CancellationToken cancellationToken)
    {
        var differences = new List<string>();
        foreach (var (user, expected) in traffic.Expected())
        {
            using var message = new HttpRequestMessage(HttpMethod.Get, $"/v1/users/{Uri.EscapeDataString(user)}/export");
            message.Headers.Add("X-Api-Key", traffic.Keys.All);
            using var response = await client.SendAsync(message, cancellationToken);
            var export = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken))!;
            var actual = Describe((long)export["eventCount"]!,
                export["behaviours"]!.AsArray().Reverse().Select(b => $"{(string)b!["itemId"]!}/{(string)b["type"]!}/{(DateTimeOffset)b["timestamp"]!:O}"),
                export["purchased"]!.AsArray().Select(p => (string)p!), export["recentSearches"]!.AsArray().Select(q => (string)q!));
            var replayed = Describe(expected.EventCount, ExpectedWindow(expected), expected.Purchased.Select(Name), expected.Queries);
            if (actual != replayed)
            {
                differences.Add($"{user}: server {actual}; replay {replayed}");
            }
        }
        return differences;

        string Name(int index) => traffic.Items.GetId(index);

        IEnumerable<string> ExpectedWindow(UserState state) => state.Window.ToArray().Select(r =>
            $"{Name(r.ItemIndex)}/{r.Type.ToWireName()}/{DateTimeOffset.FromUnixTimeMilliseconds(r.TimestampMs):O}");
    }

    private static string Describe(long events, IEnumerable<string> window, IEnumerable<string> purchased, IEnumerable<string> searches) =>
        $"{events} events; window [{string.Join(", ", window)}]; purchased [{string.Join(", ", purchased)}]; searches [{string.Join(", ", searches)}]";
}
