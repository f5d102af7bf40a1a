using Recsys.Domain.Events;

namespace Recsys.Domain.UnitTests;

public class EventValidatorTests
{
    private readonly ManualClock _clock = new(TestData.T0.AddDays(1));
    private EventValidator Validator => new(new EventValidationOptions(), _clock);

    [Fact]
    public void A_complete_event_is_valid_with_its_fields_parsed()
    {
        var errors = new List<FieldError>();
        Assert.True(Validator.TryValidate(TestData.Input(type: "purchase", timestamp: "2026-11-01T13:00:00+01:00"), "", out var e, errors));
        Assert.Empty(errors);
        Assert.Equal(BehaviourType.Purchase, e!.Type);
        Assert.Equal(TestData.T0, e.Timestamp); // +01:00 normalised to UTC
    }

    [Fact]
    public void A_recommendation_id_we_issued_is_carried_and_anything_else_is_named()
    {
        var ids = new Recommendation.RecommendationId("a secret of the service, 32+ chars"u8);
        var validator = new EventValidator(new EventValidationOptions(), _clock, ids);
        var issued = ids.New("games-v2.1");
        Assert.True(Recommendation.RecommendationId.TryGetModelVersion(issued, out var version));
        Assert.Equal("games-v2.1", version);
        Assert.Matches("^[0-9a-f]{32}\\.[0-9a-f]{16}\\.games-v2\\.1$", issued);

        var errors = new List<FieldError>();
        Assert.True(validator.TryValidate(TestData.Input() with { RecommendationId = issued }, "", out var e, errors));
        Assert.Equal(issued, e!.RecommendationId);

        var otherService = new Recommendation.RecommendationId("another service's secret, 32+ chars"u8).New("games-v2.1");
        var forgedVersion = issued[..50] + "games-v9"; // a real id's signature over another version
        var flipped = issued[..33] + (issued[33] == '0' ? '1' : '0') + issued[34..];
        var hex = new string('a', 32);
        foreach (var bad in new[] { "", "abc", hex + ".", hex + ".v1", hex + "." + new string('b', 16) + ".v1", otherService, forgedVersion, flipped,
                     hex + "." + new string('g', 16) + ".v1", hex + "." + new string('b', 16) + "." + new string('v', 129) })
        {
            errors.Clear();
            Assert.False(validator.TryValidate(TestData.Input() with { RecommendationId = bad }, "events[1].", out _, errors), bad);
            Assert.Equal("events[1].recommendationId", Assert.Single(errors).Field);
        }
        // Without the secret (the import command's offline check) only the form is checked.
        Assert.True(Validator.TryValidate(TestData.Input() with { RecommendationId = otherService }, "", out _, errors));
    }

    [Theory]
    [InlineData(null, "u", "i", "view", "2026-11-01T12:00:00Z", "eventId", "is required")]
    [InlineData("e", "", "i", "view", "2026-11-01T12:00:00Z", "userId", "must not be empty")]
    [InlineData("e", "u", null, "click", "2026-11-01T12:00:00Z", "itemId", "is required")]
    [InlineData("e", "u", "i", "like", "2026-11-01T12:00:00Z", "type", "'like' is not an event type")]
    [InlineData("e", "u", "i", null, "2026-11-01T12:00:00Z", "type", "is required")]
    [InlineData("e", "u", "i", "view", "yesterday", "timestamp", "not an RFC 3339")]
    [InlineData("e", "u", "i", "view", null, "timestamp", "is required")]
    [InlineData("e", "u", "i", "view", "2030-01-01T00:00:00Z", "timestamp", "is in the future")]
    [InlineData("e", "u", "i", "View", "2026-11-01T12:00:00Z", "type", "expected one of view, search, click, cart, purchase")]
    [InlineData("e", "u\u0001", "i", "view", "2026-11-01T12:00:00Z", "userId", "control characters")]
    public void Each_bad_field_is_named_with_its_problem(string? eventId, string? userId, string? itemId, string? type, string? timestamp,
        string field, string message)
    {
        var errors = new List<FieldError>();
        Assert.False(Validator.TryValidate(TestData.Input(eventId, userId, itemId, type, timestamp), "events[2].", out var e, errors));
        Assert.Null(e);
        var error = Assert.Single(errors);
        Assert.Equal("events[2]." + field, error.Field);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1/2/2026")]
    [InlineData("Jan 5 2026")]
    [InlineData("2026-11-01T12:00:00")] // no offset: a different instant on every server
    [InlineData("2026-11-01 12:00:00Z")]
    [InlineData("2026-11-01T12:00Z")]
    [InlineData("2026-11-01")]
    [InlineData("2026-11-01T12:00:00Z\n")]
    [InlineData("２０２６-11-01T12:00:00Z")] // full-width digits are digits to \d, not to RFC 3339
    [InlineData("2026-13-01T12:00:00Z")]
    public void Only_RFC_3339_timestamps_with_an_offset_are_accepted(string timestamp)
    {
        var errors = new List<FieldError>();
        Assert.False(Validator.TryValidate(TestData.Input(timestamp: timestamp), "events[0].", out _, errors));
        Assert.Equal("events[0].timestamp", Assert.Single(errors).Field);
    }

    [Theory]
    [InlineData("2026-11-01T12:00:00Z")]
    [InlineData("2026-11-01t12:00:00z")]
    [InlineData("2026-11-01T13:00:00+01:00")]
    [InlineData("2026-11-01T07:00:00-05:00")]
    [InlineData("2026-11-01T12:00:00.000000000Z")] // nanoseconds, as Go and Java write them
    public void RFC_3339_timestamps_in_any_zone_name_the_same_instant(string timestamp)
    {
        var errors = new List<FieldError>();
        Assert.True(Validator.TryValidate(TestData.Input(timestamp: timestamp), "", out var e, errors), string.Join("; ", errors));
        Assert.Equal(TestData.T0, e!.Timestamp);
    }

    [Fact]
    public void Oversized_ids_and_queries_are_rejected_with_the_limit()
    {
        var errors = new List<FieldError>();
        Validator.TryValidate(TestData.Input(userId: new string('u', 129), query: new string('q', 513)), "", out _, errors);
        Assert.Equal(["userId", "query"], errors.Select(e => e.Field));
        Assert.Contains("limit is 128", errors[0].Message, StringComparison.Ordinal);
        Assert.Contains("limit is 512", errors[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_search_needs_a_query_or_an_item_but_not_both()
    {
        var errors = new List<FieldError>();
        Assert.True(Validator.TryValidate(TestData.Input(itemId: null, type: "search", query: "red shoes"), "", out var search, errors));
        Assert.Null(search!.ItemId);
        Assert.False(Validator.TryValidate(TestData.Input(itemId: null, type: "search"), "", out _, errors));
        Assert.Equal("query", Assert.Single(errors).Field);
    }

    [Fact]
    public void A_timestamp_within_the_allowed_clock_skew_is_accepted()
    {
        var errors = new List<FieldError>();
        var ahead = _clock.Now.AddMinutes(4).ToString("O");
        Assert.True(Validator.TryValidate(TestData.Input(timestamp: ahead), "", out _, errors));
        Assert.False(Validator.TryValidate(TestData.Input(timestamp: _clock.Now.AddMinutes(6).ToString("O")), "", out _, errors));
    }

    [Fact]
    public void The_stable_hash_never_changes_because_persisted_dedup_keys_depend_on_it()
    {
        // Values computed independently (FNV-1a over UTF-16 code units, then the murmur3 finaliser) and frozen:
        // a change here would make every stored dedup key miss after an upgrade.
        Assert.Equal(0xb9b87c5e3bc839d2UL, Identifier.StableHash64("event-1"));
        Assert.Equal(0xefd01f60ba992926UL, Identifier.StableHash64(""));
        Assert.NotEqual(Identifier.StableHash64("event-1"), Identifier.StableHash64("event-2"));
    }
}
