using System.Globalization;
using System.Text;
using Recsys.Contracts;
using Recsys.Domain.Catalogue;
using Recsys.Domain.Events;

namespace Recsys.Cli.Import;

internal enum InputFormat
{
    Csv,
    Jsonl,
}

internal enum ImportKind
{
    Items,
    Events,
}

/// <summary>
/// Reads catalogue items or events from CSV (with a header row) or JSONL, validating each record with
/// the server's own rules. Errors name the line: "line 17: timestamp: is required".
/// </summary>
internal static class InputFile
{
    public static readonly string[] EventColumns = ["eventId", "userId", "itemId", "type", "timestamp", "query", "recommendationId"];
    public static readonly string[] ItemColumns = ["itemId", "title", "category", "price", "inStock"];

    // Bytes that are not UTF-8 decode to U+FFFF, a noncharacter that text never carries, so the line holding them is named.
    private const char InvalidByte = '\uffff';
    private static readonly Encoding StrictUtf8 =
        Encoding.GetEncoding("utf-8", EncoderFallback.ReplacementFallback, new DecoderReplacementFallback(InvalidByte.ToString()));

    /// <summary>Opens a UTF-8 file (with or without a byte-order mark) for <see cref="ReadEvents"/> and <see cref="ReadItems"/>.</summary>
    public static StreamReader Open(string path) => new(path, StrictUtf8, detectEncodingFromByteOrderMarks: false);

    public static InputFormat? FormatFromExtension(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".csv" => InputFormat.Csv,
        ".jsonl" or ".ndjson" => InputFormat.Jsonl,
        _ => null,
    };

    public static IEnumerable<BehaviourEvent> ReadEvents(TextReader reader, InputFormat format, EventValidator validator, List<FieldError> errors)
    {
        foreach (var (line, fields, jsonLine) in Records(reader, format, EventColumns, errors))
        {
            var prefix = $"line {line}: ";
            var input = jsonLine is not null
                ? BatchReader.ReadEventObject(Encoding.UTF8.GetBytes(jsonLine), prefix, errors)
                : new EventInput(Get(fields!, "eventId"), Get(fields!, "userId"), Get(fields!, "itemId"), Get(fields!, "type"),
                    Get(fields!, "timestamp"), Get(fields!, "query")) { RecommendationId = Get(fields!, "recommendationId") };
            if (input is not null && validator.TryValidate(input, prefix, out var e, errors))
            {
                yield return e!;
            }
        }
    }

    public static IEnumerable<CatalogueItem> ReadItems(TextReader reader, InputFormat format, CatalogueItemValidator validator, List<FieldError> errors)
    {
        foreach (var (line, fields, jsonLine) in Records(reader, format, ItemColumns, errors))
        {
            var prefix = $"line {line}: ";
            CatalogueItemInput? input;
            if (jsonLine is not null)
            {
                input = BatchReader.ReadItemObject(Encoding.UTF8.GetBytes(jsonLine), prefix, errors);
            }
            else
            {
                var before = errors.Count;
                var price = ParsePrice(Get(fields!, "price"), prefix, errors);
                var inStock = ParseBool(Get(fields!, "inStock"), prefix, errors);
                input = errors.Count > before ? null
                    : new CatalogueItemInput(Get(fields!, "itemId"), Get(fields!, "title"), Get(fields!, "category"), price, inStock);
            }
            if (input is not null && validator.TryValidate(input, prefix, out var item, errors))
            {
                yield return item!;
            }
        }
    }

    /// <summary>Yields (line number, CSV fields by column, or the JSON text) for each non-blank record.</summary>
    private static IEnumerable<(int Line, Dictionary<string, string>? Fields, string? Json)> Records(
        TextReader reader, InputFormat format, string[] columns, List<FieldError> errors)
    {
        var lineNumber = 0;
        string[]? header = null;
        var fields = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            if (line.Contains(InvalidByte))
            {
                errors.Add(new($"line {lineNumber}", "is not valid UTF-8 text (the file must be UTF-8)"));
                continue;
            }
            if (format == InputFormat.Jsonl)
            {
                yield return (lineNumber, null, line);
                continue;
            }
            if (!Csv.TrySplit(line, fields, out var error))
            {
                errors.Add(new($"line {lineNumber}", error!));
                continue;
            }
            if (header is null)
            {
                header = [.. fields.Select(static f => f.Trim())];
                var unknown = header.Where(h => !columns.Contains(h, StringComparer.OrdinalIgnoreCase)).ToList();
                if (unknown.Count > 0)
                {
                    errors.Add(new($"line {lineNumber}", $"unknown column(s) {string.Join(", ", unknown)}; the header may name {string.Join(", ", columns)}"));
                    yield break;
                }
                continue;
            }
            if (fields.Count != header.Length)
            {
                errors.Add(new($"line {lineNumber}", $"has {fields.Count} fields; the header has {header.Length}"));
                continue;
            }
            var record = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            for (var i = 0; i < header.Length; i++)
            {
                record[header[i]] = fields[i];
            }
            yield return (lineNumber, record, null);
        }
    }

    private static string? Get(Dictionary<string, string> fields, string column) =>
        fields.TryGetValue(column, out var value) && value.Length > 0 ? value : null;

    private static decimal? ParsePrice(string? value, string prefix, List<FieldError> errors)
    {
        if (value is null)
        {
            return null;
        }
        if (decimal.TryParse(value, NumberStyles.Number, CultureInfo.InvariantCulture, out var price))
        {
            return price;
        }
        errors.Add(new(prefix + "price", $"'{Domain.Identifier.Shorten(value)}' is not a number (use a dot for decimals: 19.99)"));
        return null;
    }

    private static bool? ParseBool(string? value, string prefix, List<FieldError> errors)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case null: return null;
            case "true" or "1" or "yes": return true;
            case "false" or "0" or "no": return false;
            default:
                errors.Add(new(prefix + "inStock", $"'{Domain.Identifier.Shorten(value)}' is not true or false"));
                return null;
        }
    }
}
