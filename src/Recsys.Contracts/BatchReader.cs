using System.Buffers;
using System.Text.Json;
using Recsys.Domain.Catalogue;
using Recsys.Domain.Events;

namespace Recsys.Contracts;

/// <summary>The body could not be read as a JSON array at all; nothing in it was applied.</summary>
public sealed class MalformedBatchException(string message) : Exception(message);

/// <summary>
/// Reads a JSON array of events or items element by element, so that one wrong field rejects one element
/// with a message naming it (<c>events[3].timestamp: expected a string</c>) instead of the whole batch.
/// </summary>
public static class BatchReader
{
    public static List<EventInput?> ReadEvents(ReadOnlySequence<byte> utf8, int maxCount, List<FieldError> errors) =>
        ReadArray(utf8, maxCount, "events", errors, ReadEvent);

    public static List<CatalogueItemInput?> ReadItems(ReadOnlySequence<byte> utf8, int maxCount, List<FieldError> errors) =>
        ReadArray(utf8, maxCount, "items", errors, ReadItem);

    /// <summary>Reads one JSON object (a JSONL line); <paramref name="prefix"/> names it in errors.</summary>
    public static EventInput? ReadEventObject(ReadOnlySpan<byte> utf8, string prefix, List<FieldError> errors) =>
        ReadSingle(utf8, prefix, errors, ReadEvent);

    public static CatalogueItemInput? ReadItemObject(ReadOnlySpan<byte> utf8, string prefix, List<FieldError> errors) =>
        ReadSingle(utf8, prefix, errors, ReadItem);

    private delegate T? ElementReader<T>(ref Utf8JsonReader reader, string prefix, List<FieldError> errors) where T : class;

    private static List<T?> ReadArray<T>(ReadOnlySequence<byte> utf8, int maxCount, string name, List<FieldError> errors, ElementReader<T> readElement)
        where T : class
    {
        if (utf8.IsEmpty)
        {
            throw new MalformedBatchException($"the body is empty; expected a JSON array of {name}");
        }
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 16 });
        var result = new List<T?>();
        try
        {
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                throw new MalformedBatchException($"the body is a JSON {Describe(reader.TokenType)}; expected a JSON array of {name}");
            }
            while (true)
            {
                Next(ref reader);
                if (reader.TokenType == JsonTokenType.EndArray)
                {
                    break;
                }
                if (result.Count == maxCount)
                {
                    throw new MalformedBatchException($"the batch has more than {maxCount} {name}; send at most {maxCount} per request");
                }
                var prefix = $"{name}[{result.Count}].";
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    errors.Add(new(prefix.TrimEnd('.'), $"is a JSON {Describe(reader.TokenType)}; expected an object"));
                    reader.Skip();
                    result.Add(null);
                    continue;
                }
                result.Add(readElement(ref reader, prefix, errors));
            }
            if (reader.Read())
            {
                throw new MalformedBatchException("unexpected content after the closing ] of the array");
            }
        }
        catch (JsonException ex)
        {
            throw new MalformedBatchException($"the body is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}): {ex.Message.Split(" LineNumber", 2)[0]}");
        }
        return result;
    }

    private static T? ReadSingle<T>(ReadOnlySpan<byte> utf8, string prefix, List<FieldError> errors, ElementReader<T> readElement) where T : class
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 16 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                errors.Add(new(prefix.TrimEnd('.', ' ', ':'), "expected a JSON object"));
                return null;
            }
            var value = readElement(ref reader, prefix, errors);
            if (reader.Read())
            {
                errors.Add(new(prefix.TrimEnd('.', ' ', ':'), "unexpected content after the JSON object"));
                return null;
            }
            return value;
        }
        catch (JsonException ex)
        {
            errors.Add(new(prefix.TrimEnd('.', ' ', ':'), $"not valid JSON (byte {ex.BytePositionInLine + 1})"));
            return null;
        }
    }

    private static readonly string[] EventFields = ["eventId", "userId", "itemId", "type", "timestamp", "query", "recommendationId"];
    private static readonly string[] ItemFields = ["itemId", "title", "category", "price", "inStock"];

    private static EventInput? ReadEvent(ref Utf8JsonReader reader, string prefix, List<FieldError> errors)
    {
        string? eventId = null, userId = null, itemId = null, type = null, timestamp = null, query = null, recommendationId = null;
        var before = errors.Count;
        var seen = new SeenFields(EventFields);
        while (NextProperty(ref reader, prefix, errors, out var field))
        {
            if (!seen.FirstTime(field, prefix, errors))
            {
                reader.Skip();
                continue;
            }
            switch (field)
            {
                case "eventId": eventId = ReadString(ref reader, prefix + field, errors); break;
                case "userId": userId = ReadString(ref reader, prefix + field, errors); break;
                case "itemId": itemId = ReadString(ref reader, prefix + field, errors); break;
                case "type": type = ReadString(ref reader, prefix + field, errors); break;
                case "timestamp": timestamp = ReadString(ref reader, prefix + field, errors); break;
                case "query": query = ReadString(ref reader, prefix + field, errors); break;
                case "recommendationId": recommendationId = ReadString(ref reader, prefix + field, errors); break;
                default: reader.Skip(); break; // unknown fields are ignored so that clients can be newer than the server
            }
        }
        return errors.Count > before ? null : new EventInput(eventId, userId, itemId, type, timestamp, query) { RecommendationId = recommendationId };
    }

    private static CatalogueItemInput? ReadItem(ref Utf8JsonReader reader, string prefix, List<FieldError> errors)
    {
        string? itemId = null, title = null, category = null;
        decimal? price = null;
        bool? inStock = null;
        var before = errors.Count;
        var seen = new SeenFields(ItemFields);
        while (NextProperty(ref reader, prefix, errors, out var field))
        {
            if (!seen.FirstTime(field, prefix, errors))
            {
                reader.Skip();
                continue;
            }
            switch (field)
            {
                case "itemId": itemId = ReadString(ref reader, prefix + field, errors); break;
                case "title": title = ReadString(ref reader, prefix + field, errors); break;
                case "category": category = ReadString(ref reader, prefix + field, errors); break;
                case "price":
                    if (reader.TokenType == JsonTokenType.Number && reader.TryGetDecimal(out var p))
                    {
                        price = p;
                    }
                    else if (reader.TokenType != JsonTokenType.Null)
                    {
                        errors.Add(new(prefix + field, $"is a JSON {Describe(reader.TokenType)}; expected a number"));
                        reader.Skip();
                    }
                    break;
                case "inStock":
                    if (reader.TokenType is JsonTokenType.True or JsonTokenType.False)
                    {
                        inStock = reader.GetBoolean();
                    }
                    else if (reader.TokenType != JsonTokenType.Null)
                    {
                        errors.Add(new(prefix + field, $"is a JSON {Describe(reader.TokenType)}; expected true or false"));
                        reader.Skip();
                    }
                    break;
                default: reader.Skip(); break;
            }
        }
        return errors.Count > before ? null : new CatalogueItemInput(itemId, title, category, price, inStock);
    }

    private static string? ReadString(ref Utf8JsonReader reader, string field, List<FieldError> errors)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                if (TryGetText(ref reader, out var text))
                {
                    return text;
                }
                errors.Add(new(field, InvalidText));
                return null;
            case JsonTokenType.Null:
                return null;
            default:
                errors.Add(new(field, $"is a JSON {Describe(reader.TokenType)}; expected a string"));
                reader.Skip();
                return null;
        }
    }

    private const string InvalidText =
        "is not valid Unicode text (an invalid UTF-8 byte or a lone surrogate such as \\ud800, e.g. text cut inside an emoji)";

    /// <summary>
    /// Moves to the next property's value; false at the end of the object. A name that is not valid text is reported
    /// on the object and comes back empty, so its value is skipped as an unknown field's.
    /// </summary>
    private static bool NextProperty(ref Utf8JsonReader reader, string prefix, List<FieldError> errors, out string field)
    {
        Next(ref reader);
        if (reader.TokenType == JsonTokenType.EndObject)
        {
            field = "";
            return false;
        }
        if (!TryGetText(ref reader, out var name))
        {
            errors.Add(new(prefix.TrimEnd('.', ' ', ':'), "has a property name that " + InvalidText));
        }
        field = name ?? "";
        Next(ref reader);
        return true;
    }

    /// <summary>The reader checks structure, not text: a string's UTF-8 and its escapes are checked when it is read.</summary>
    private static bool TryGetText(ref Utf8JsonReader reader, out string? text)
    {
        try
        {
            text = reader.GetString();
            return true;
        }
        catch (InvalidOperationException)
        {
            text = null;
            return false;
        }
    }

    /// <summary>Known fields seen so far in one object: a repeated one is an error, not "the last value wins".</summary>
    private struct SeenFields(string[] known)
    {
        private int _mask;

        public bool FirstTime(string field, string prefix, List<FieldError> errors)
        {
            var index = Array.IndexOf(known, field);
            if (index < 0)
            {
                return true;
            }
            if ((_mask & (1 << index)) != 0)
            {
                errors.Add(new(prefix + field, "appears more than once in the object; send each field once"));
                return false;
            }
            _mask |= 1 << index;
            return true;
        }
    }

    private static void Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new MalformedBatchException("the body ends before the JSON is complete");
        }
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "object",
        JsonTokenType.StartArray => "array",
        JsonTokenType.String => "string",
        JsonTokenType.Number => "number",
        JsonTokenType.True or JsonTokenType.False => "boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString().ToLowerInvariant(),
    };
}
