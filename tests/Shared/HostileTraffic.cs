using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Recsys.Domain.Catalogue;
using Recsys.Domain.Events;
using Recsys.Domain.Users;

namespace Recsys.Tests.Shared;

/// <summary>The keys the traffic may present: the main key (every scope), and scoped ones when the caller has them.</summary>
public sealed record FuzzKeys(string All, string? Read = null, string? Write = null);

/// <summary>One generated request: what it exercises (a finding class or a mutation), and its parts.</summary>
public sealed record FuzzRequest(string Kind, HttpMethod Method, string Path, byte[]? Body, string? ContentType, string? Key)
{
    /// <summary>The route, for the figures (ids and queries left out, so the table stays short).</summary>
    public string Endpoint { get; init; } = "";
}

/// <summary>
/// Seeded hostile and malformed traffic over every endpoint and method: each class of the hardening findings (invalid
/// text, special and outside model files, resends, forged recommendation ids, lenient timestamps and duplicate keys,
/// missing or wrong-scope keys, erasure) and random byte mutations of valid requests. Between them, tracked users get
/// well-formed batches, resends and erasures whose outcome is known, and <see cref="Expected"/> replays exactly those
/// through the domain, so a run can check each tracked user's state against what was accepted.
/// </summary>
public sealed class HostileTraffic(int seed, FuzzKeys keys, IReadOnlyList<string> modelPaths)
{
    private readonly Random _random = new(seed);
    private readonly string _run = $"{seed}-{Guid.NewGuid():N}"[..16];
    private readonly List<string> _tracked = [];
    private readonly Dictionary<string, List<BehaviourEvent>> _accepted = new(StringComparer.Ordinal);
    private readonly List<(string User, JsonObject[] Batch)> _sent = [];
    private readonly DateTimeOffset _start = DateTimeOffset.UtcNow.AddDays(-1);
    private int _counter;
    private FuzzRequest? _pendingTracked;
    private (string User, JsonObject[] Batch, bool Erase)? _pendingEffect;

    public IReadOnlyList<string> TrackedUsers => _tracked;

    public FuzzKeys Keys => keys;

    /// <summary>The item numbering of <see cref="Expected"/>'s states.</summary>
    public ItemRegistry Items { get; } = new();

    /// <summary>
    /// The next request. Call <see cref="Observe"/> with its status: tracked batches count as accepted only when the
    /// server said so, which the replay relies on.
    /// </summary>
    public FuzzRequest Next()
    {
        var roll = _random.Next(100);
        return roll switch
        {
            < 20 => TrackedBatch(),
            < 28 => InvalidText(),
            < 34 => ModelLoad(),
            < 40 => Lenient(),
            < 45 => ForgedRecommendationIds(),
            < 52 => WrongKey(),
            < 56 => Erasure(),
            < 66 => Read(),
            < 72 => OddMethod(),
            _ => Mutation(),
        };
    }

    /// <summary>Records what the server did with a tracked request (its status), so the replay follows only what was accepted.</summary>
    public void Observe(FuzzRequest request, HttpStatusCode status)
    {
        if (!ReferenceEquals(request, _pendingTracked) || _pendingEffect is not { } effect)
        {
            return;
        }
        _pendingTracked = null;
        _pendingEffect = null;
        if (effect.Erase)
        {
            if (status == HttpStatusCode.OK)
            {
                _accepted[effect.User] = [];
            }
            return;
        }
        if (status != HttpStatusCode.Accepted)
        {
            return; // e.g. 429: nothing of it was applied, and a later resend may apply it
        }
        var events = _accepted[effect.User];
        foreach (var json in effect.Batch)
        {
            var e = ToEvent(json);
            if (!events.Exists(x => x.EventId == e.EventId))
            {
                events.Add(e); // within the dedup guarantee a resend changes nothing
            }
        }
    }

    /// <summary>The state each tracked user should have: the replay of their accepted events through the domain.</summary>
    public IReadOnlyDictionary<string, UserState> Expected()
    {
        var items = Items;
        var result = new Dictionary<string, UserState>(StringComparer.Ordinal);
        foreach (var (user, events) in _accepted)
        {
            var state = new UserState(user, new UserStateOptions());
            foreach (var e in events)
            {
                state.Apply(e, e.ItemId is null ? -1 : items.GetOrAdd(e.ItemId), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            }
            result[user] = state;
        }
        return result;
    }

    private static BehaviourEvent ToEvent(JsonObject json) => new(
        (string)json["eventId"]!, (string)json["userId"]!, (string?)json["itemId"], BehaviourTypes.TryParse((string)json["type"]!, out var type) ? type : default,
        DateTimeOffset.Parse((string)json["timestamp"]!, System.Globalization.CultureInfo.InvariantCulture), (string?)json["query"]);

    private string Pick(params string[] options) => options[_random.Next(options.Length)];

    private string NewId(string prefix) => $"{prefix}-{_run}-{Interlocked.Increment(ref _counter)}";

    private JsonObject ValidEvent(string user)
    {
        var type = Pick("view", "view", "click", "cart", "purchase", "search");
        var json = new JsonObject
        {
            ["eventId"] = NewId("e"),
            ["userId"] = user,
            ["type"] = type,
            ["timestamp"] = _start.AddSeconds(Interlocked.Increment(ref _counter)).ToString("O"),
        };
        if (type != "search" || _random.Next(2) == 0)
        {
            json["itemId"] = $"fuzz-item-{_random.Next(60)}";
        }
        if (type == "search")
        {
            json["query"] = Pick("tent", "red shoes", "caf\u00e9 \u2615", "board games");
        }
        return json;
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static byte[] Serialize(IEnumerable<JsonNode> nodes) => Utf8(new JsonArray([.. nodes.Select(n => n.DeepClone())]).ToJsonString());

    private FuzzRequest Post(string kind, string path, byte[] body, string? key = null, string endpoint = "") =>
        new(kind, HttpMethod.Post, path, body, "application/json", key ?? keys.All) { Endpoint = endpoint.Length > 0 ? endpoint : path };

    /// <summary>Well-formed events for a tracked user, a resend of an earlier batch (whole or a part), or an erasure.</summary>
    private FuzzRequest TrackedBatch()
    {
        if (_tracked.Count < 12 || _random.Next(10) == 0)
        {
            var user = NewId("tracked");
            _tracked.Add(user);
            _accepted[user] = [];
        }
        var tracked = _tracked[_random.Next(_tracked.Count)];
        string kind;
        JsonObject[] batch;
        if (_sent.Count > 0 && _random.Next(3) == 0)
        {
            var (user, earlier) = _sent[_random.Next(_sent.Count)];
            var from = _random.Next(earlier.Length);
            (kind, tracked, batch) = ("resend", user, _random.Next(2) == 0 ? earlier : earlier[from..]);
        }
        else
        {
            kind = "tracked events";
            batch = [.. Enumerable.Range(0, 1 + _random.Next(_random.Next(10) == 0 ? 300 : 12)).Select(_ => ValidEvent(tracked))];
            _sent.Add((tracked, batch));
        }
        var request = Post(kind, "/v1/events", Serialize(batch), Pick(keys.All, keys.Write ?? keys.All));
        _pendingTracked = request;
        _pendingEffect = (tracked, batch, false);
        return request;
    }

    private FuzzRequest Erasure()
    {
        if (_tracked.Count > 0 && _random.Next(3) == 0)
        {
            var user = _tracked[_random.Next(_tracked.Count)];
            var erase = new FuzzRequest("erasure", HttpMethod.Delete, "/v1/users/" + Uri.EscapeDataString(user), null, null, keys.All)
                { Endpoint = "/v1/users/{userId}" };
            _pendingTracked = erase;
            _pendingEffect = (user, [], true);
            return erase;
        }
        var path = "/v1/users/" + Pick("%ff", "%ed%a0%80", "%00", Uri.EscapeDataString(NewId("nobody")), new string('u', 300), "a%2Fb");
        return new FuzzRequest("erasure", HttpMethod.Delete, path, null, null, Pick(keys.All, keys.Read ?? "")) { Endpoint = "/v1/users/{userId}" };
    }

    /// <summary>Lone surrogates and bytes that are not UTF-8, in values, names, items and paths.</summary>
    private FuzzRequest InvalidText()
    {
        if (_random.Next(6) == 0)
        {
            var path = "/v1/users/" + Pick("%ff", "%ed%a0%80", "%c3%28", "%e9%80") + Pick("", "/recommendations?category=%ff", "/recommendations?k=%ed%a0%80");
            return new FuzzRequest("invalid text", HttpMethod.Get, path, null, null, keys.All) { Endpoint = "/v1/users/{userId}" };
        }
        var field = Pick("eventId", "userId", "itemId", "type", "timestamp", "query");
        var bad = Pick("\\ud800", "\\udfff", "x\\ud83d", "\\udc00\\ud800");
        byte[][] raw = [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf0, 0x9f], [0x80]]; // the last: an emoji cut short
        var ts = _start.ToString("O");
        byte[] Event(byte[] fieldValue, byte[]? name = null)
        {
            var parts = new List<byte>(Utf8("[{"));
            foreach (var (key, value) in new[] { ("eventId", NewId("e")), ("userId", NewId("fuzz")), ("itemId", "lamp"), ("type", "search"),
                         ("timestamp", ts), ("query", "tent") })
            {
                parts.AddRange(Utf8($"\"{key}\": \""));
                parts.AddRange(key == field ? fieldValue : Utf8(value));
                parts.AddRange(Utf8("\", "));
            }
            parts.AddRange(Utf8("\""));
            parts.AddRange(name ?? Utf8("extra"));
            parts.AddRange(Utf8("\": 1}]"));
            return [.. parts];
        }
        return _random.Next(5) switch
        {
            0 => Post("invalid text", "/v1/events", Event(Utf8("ok" + bad))),
            1 => Post("invalid text", "/v1/events", Event([.. Utf8("ok"), .. raw[_random.Next(raw.Length)]])),
            2 => Post("invalid text", "/v1/events", Event(Utf8("ok"), raw[_random.Next(raw.Length)])),
            3 => Post("invalid text", "/v1/events", Event(Utf8("ok"), Utf8(bad))),
            _ => Post("invalid text", "/v1/items", Utf8($$"""[{"itemId": "lamp{{bad}}", "category": "c"}, {"itemId": "{{NewId("i")}}", "title": "caf{{bad}}"}]""")),
        };
    }

    /// <summary>Admin loads of devices, pipes, links out of the folder, system files, odd names and odd bodies.</summary>
    private FuzzRequest ModelLoad()
    {
        var path = _random.Next(3) == 0 && modelPaths.Count > 0
            ? modelPaths[_random.Next(modelPaths.Count)]
            : Pick("/dev/zero", "/dev/urandom", "/proc/self/mem", "/proc/self/maps", "/sys/kernel/mm/transparent_hugepage/enabled",
                "/etc/shadow", "/etc/passwd", "../../../../etc/passwd", "..", ".", "", " ", "models/../../x.rsm", "nul\u0000.rsm",
                new string('a', 5000), "\ud800.rsm", "missing.rsm", "/");
        byte[] body = _random.Next(8) switch
        {
            0 => Utf8($$"""{"path": {{_random.Next()}}}"""),
            1 => Utf8($$"""{"path": "x.rsm", "path": "y.rsm"}"""),
            2 => Utf8($$"""{"path": "x.rsm", "role": "candidate", "share": {{Pick("-1", "2", "1e400", "null", "\"half\"")}}}"""),
            3 => Utf8("[]"),
            _ => Utf8(JsonSerializer.Serialize(new { path, role = Pick("primary", "candidate", "boss"), share = _random.NextDouble() })),
        };
        return Post("model load", "/v1/admin/models", body, endpoint: "/v1/admin/models");
    }

    /// <summary>Timestamps that are not RFC 3339 with an offset, and repeated fields.</summary>
    private FuzzRequest Lenient()
    {
        var valid = ValidEvent(NewId("fuzz"));
        if (_random.Next(2) == 0)
        {
            valid["timestamp"] = Pick("1/2/2026", "Jan 5 2026", "2026-11-01T12:00:00", "2026-11-01", "2026-13-45T99:99:99Z", "now", "",
                "2026-11-01T12:00:00+25:00", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2026-11-01T12:00:00.1234567890123Z");
            return Post("lenient", "/v1/events", Serialize([valid]));
        }
        var text = valid.ToJsonString();
        return Post("lenient", "/v1/events", Utf8("[" + text[..^1] + ", \"userId\": \"someone-else\", \"type\": \"view\"}]"));
    }

    private FuzzRequest ForgedRecommendationIds()
    {
        var user = NewId("fuzz");
        var events = Enumerable.Range(0, 1 + _random.Next(80)).Select(i =>
        {
            var e = ValidEvent(user);
            e["recommendationId"] = $"{Guid.NewGuid():N}.{_random.NextInt64():x16}.forged-v{i}";
            return (JsonNode)e;
        });
        return Post("forged recommendation ids", "/v1/events", Serialize(events));
    }

    private FuzzRequest WrongKey()
    {
        var key = Pick("", "x", keys.All + "x", keys.All.ToUpperInvariant(), new string('k', 600), keys.Read ?? "r", keys.Write ?? "w");
        var (method, path, endpoint) = _random.Next(4) switch
        {
            0 => (HttpMethod.Get, "/v1/users/" + NewId("u"), "/v1/users/{userId}"),
            1 => (HttpMethod.Get, "/v1/admin/models", "/v1/admin/models"),
            2 => (HttpMethod.Delete, "/v1/users/" + NewId("u"), "/v1/users/{userId}"),
            _ => (HttpMethod.Post, "/v1/events", "/v1/events"),
        };
        var body = method == HttpMethod.Post ? Serialize([ValidEvent(NewId("fuzz"))]) : null;
        return new FuzzRequest("wrong key", method, path, body, body is null ? null : "application/json", key) { Endpoint = endpoint };
    }

    private FuzzRequest Read()
    {
        var user = _tracked.Count > 0 && _random.Next(2) == 0 ? _tracked[_random.Next(_tracked.Count)] : NewId("reader");
        var query = Pick("", "?k=5", "?k=0", "?k=-1", "?k=101", "?k=abc", "?k=99999999999", "?minPrice=NaN", "?minPrice=-1", "?maxPrice=1e309",
            "?category=" + new string('c', 2000), "?inStock=maybe", "?includeSeen=1", "?k=3&k=4", "?recent=-5", "?recent=100000");
        var (path, endpoint) = _random.Next(4) switch
        {
            0 => ($"/v1/users/{Uri.EscapeDataString(user)}{query}", "/v1/users/{userId}"),
            1 => ($"/v1/users/{Uri.EscapeDataString(user)}/export", "/v1/users/{userId}/export"),
            2 => ($"/v1/items/fuzz-item-{_random.Next(80)}/similar{query}", "/v1/items/{itemId}/similar"),
            _ => ($"/v1/users/{Uri.EscapeDataString(user)}/recommendations{query}", "/v1/users/{userId}/recommendations"),
        };
        return new FuzzRequest("reads", HttpMethod.Get, path, null, null, Pick(keys.All, keys.Read ?? keys.All)) { Endpoint = endpoint };
    }

    private FuzzRequest OddMethod()
    {
        var method = new HttpMethod(Pick("PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "PROPFIND", "GET", "POST"));
        var path = Pick("/v1/events", "/v1/items", "/v1/admin/models", "/v1/admin/models/candidate", "/v1/admin/models/candidate/promote",
            "/v1/users/x/recommendations", "/v1/admin/cluster", "/healthz", "/readyz", "/metrics", "/openapi/v1.json", "/", "/v2/events",
            "/v1/users/x/export", "/v1/items/x/similar");
        var body = method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Trace ? null : Utf8(Pick("[]", "{}", "null", "[1,2]"));
        return new FuzzRequest("methods", method, path, body, body is null ? null : Pick("application/json", "text/plain", "application/json; charset=latin1"),
            keys.All) { Endpoint = path };
    }

    /// <summary>A valid request with a few random byte edits: flips, insertions, deletions, a repeated stretch.</summary>
    private FuzzRequest Mutation()
    {
        var items = _random.Next(4) == 0;
        var user = NewId("fuzz");
        var valid = items
            ? Utf8(JsonSerializer.Serialize(Enumerable.Range(0, 1 + _random.Next(5)).Select(i =>
                new { itemId = NewId("item"), title = "Lamp", category = "tents", price = 12.5, inStock = true })))
            : Serialize(Enumerable.Range(0, 1 + _random.Next(8)).Select(_ => ValidEvent(user)));
        var bytes = new List<byte>(valid);
        for (var edits = 1 + _random.Next(4); edits > 0 && bytes.Count > 1; edits--)
        {
            var at = _random.Next(bytes.Count);
            switch (_random.Next(5))
            {
                case 0: bytes[at] = (byte)_random.Next(256); break;
                case 1: bytes.Insert(at, (byte)_random.Next(256)); break;
                case 2: bytes.RemoveAt(at); break;
                case 3: bytes.InsertRange(at, bytes.GetRange(at, Math.Min(20, bytes.Count - at))); break;
                default: bytes.Insert(at, (byte)"{}[]\",:\\"[_random.Next(8)]); break;
            }
        }
        return Post("mutations", items ? "/v1/items" : "/v1/events", [.. bytes]);
    }
}
