using System.Globalization;
using System.Text.RegularExpressions;
using Recsys.Domain.Recommendation;

namespace Recsys.Domain.Events;

public sealed record EventValidationOptions
{
    public const int DefaultMaxIdLength = 128;
    public const int DefaultMaxQueryLength = 512;

    public int MaxIdLength { get; init; } = DefaultMaxIdLength;
    public int MaxQueryLength { get; init; } = DefaultMaxQueryLength;

    /// <summary>How far ahead of the server clock a timestamp may be (clock skew between shops and us).</summary>
    public TimeSpan MaxFutureSkew { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>Turns raw inputs into <see cref="BehaviourEvent"/>s, naming every field that is wrong.</summary>
/// <remarks>With <paramref name="ids"/>, a recommendation id must carry this service's signature; without, its form is checked.</remarks>
public sealed partial class EventValidator(EventValidationOptions options, TimeProvider clock, RecommendationId? ids = null)
{
    private static readonly DateTimeOffset Earliest = DateTimeOffset.UnixEpoch;

    public EventValidator() : this(new EventValidationOptions(), TimeProvider.System)
    {
    }

    public EventValidationOptions Options => options;

    /// <summary>Validates one input; <paramref name="fieldPrefix"/> (e.g. "events[3].") is put before field names.</summary>
    public bool TryValidate(EventInput input, string fieldPrefix, out BehaviourEvent? result, List<FieldError> errors)
    {
        var before = errors.Count;
        Identifier.Check(input.EventId, fieldPrefix + "eventId", options.MaxIdLength, errors);
        Identifier.Check(input.UserId, fieldPrefix + "userId", options.MaxIdLength, errors);

        var typeKnown = BehaviourTypes.TryParse(input.Type, out var type);
        if (input.Type is null)
        {
            errors.Add(new(fieldPrefix + "type", "is required; expected one of " + string.Join(", ", BehaviourTypes.WireNames)));
        }
        else if (!typeKnown)
        {
            errors.Add(new(fieldPrefix + "type",
                $"'{Identifier.Shorten(input.Type)}' is not an event type; expected one of {string.Join(", ", BehaviourTypes.WireNames)}"));
        }

        // A search may carry only its text; every other behaviour is about an item.
        if (input.ItemId is not null || (typeKnown && type != BehaviourType.Search))
        {
            Identifier.Check(input.ItemId, fieldPrefix + "itemId", options.MaxIdLength, errors);
        }

        if (input.Query is not null)
        {
            if (input.Query.Length > options.MaxQueryLength)
            {
                errors.Add(new(fieldPrefix + "query", $"is {input.Query.Length} characters long; the limit is {options.MaxQueryLength}"));
            }
        }
        else if (typeKnown && type == BehaviourType.Search && input.ItemId is null)
        {
            errors.Add(new(fieldPrefix + "query", "is required for a search event without an itemId"));
        }

        if (input.RecommendationId is not null
            && (ids is null ? !RecommendationId.TryGetModelVersion(input.RecommendationId, out _) : !ids.IsAuthentic(input.RecommendationId)))
        {
            errors.Add(new(fieldPrefix + "recommendationId",
                $"'{Identifier.Shorten(input.RecommendationId)}' is not a recommendation id this service issued; pass on the recommendationId of a recommendations response unchanged, or leave it out"));
        }

        var timestamp = default(DateTimeOffset);
        if (string.IsNullOrWhiteSpace(input.Timestamp))
        {
            errors.Add(new(fieldPrefix + "timestamp", "is required (RFC 3339 with an offset, e.g. 2026-11-22T10:15:00Z)"));
        }
        else if (!Rfc3339().IsMatch(input.Timestamp)
                 || !DateTimeOffset.TryParse(input.Timestamp, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out timestamp))
        {
            errors.Add(new(fieldPrefix + "timestamp",
                $"'{Identifier.Shorten(input.Timestamp)}' is not an RFC 3339 date and time with an offset (e.g. 2026-11-22T10:15:00Z "
                + "or 2026-11-22T11:15:00.250+01:00)"));
        }
        else
        {
            var latest = clock.GetUtcNow() + options.MaxFutureSkew;
            if (timestamp > latest)
            {
                errors.Add(new(fieldPrefix + "timestamp",
                    $"{timestamp:O} is in the future; at most {options.MaxFutureSkew.TotalMinutes:0.#} minutes ahead of the server clock is accepted"));
            }
            else if (timestamp < Earliest)
            {
                errors.Add(new(fieldPrefix + "timestamp", $"{timestamp:O} is before 1970-01-01"));
            }
        }

        if (errors.Count > before)
        {
            result = null;
            return false;
        }

        result = new BehaviourEvent(input.EventId!, input.UserId!, input.ItemId, type, timestamp, input.Query)
        {
            RecommendationId = input.RecommendationId,
        };
        return true;
    }

    // RFC 3339's date-time: a zone is required, since a time without one means different instants on different servers.
    private const string Rfc3339Pattern =
        @"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})\z";

    [GeneratedRegex(Rfc3339Pattern, RegexOptions.CultureInvariant)]
    private static partial Regex Rfc3339();
}
