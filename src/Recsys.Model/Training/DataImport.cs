using System.Globalization;

namespace Recsys.Model.Training;

/// <summary>A data file line that cannot be read; the message names the file and line.</summary>
public sealed class DataFormatException(string message) : Exception(message);

public enum DataFormat
{
    /// <summary><c>user item</c> per line, grouped by user, in time order (SASRec's files).</summary>
    Sasrec,
    /// <summary><c>user i1 i2 ...</c>: one user per line, items in time order.</summary>
    Sequences,
    /// <summary>Taobao UserBehavior CSV: <c>user_id,item_id,category_id,behavior_type,timestamp</c>.</summary>
    Taobao,
    /// <summary>The project's own event JSON, one event per line (as POST /v1/events takes them).</summary>
    Jsonl,
}

/// <summary>Reads the research formats into user sequences. Item and user ids keep their first-seen order.</summary>
public static class DataImport
{
    public static InteractionData Read(string path, DataFormat format)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"data file '{path}' does not exist", path);
        }
        using var reader = File.OpenText(path);
        return Read(reader, Path.GetFileName(path), format);
    }

    public static InteractionData Read(TextReader reader, string name, DataFormat format) => format switch
    {
        DataFormat.Sasrec => ReadPairs(reader, name),
        DataFormat.Sequences => ReadSequences(reader, name),
        DataFormat.Taobao => ReadTaobao(reader, name),
        DataFormat.Jsonl => ReadJsonl(reader, name),
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    private sealed class Builder
    {
        private readonly Dictionary<string, int> _items = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<(int Item, byte Type, long Time, int Order)>> _users = new(StringComparer.Ordinal);
        private readonly List<string> _userOrder = [];
        public List<string> ItemIds { get; } = ["<unknown>"];

        public void Add(string user, string item, byte type = 0, long time = 0)
        {
            if (!_items.TryGetValue(item, out var index))
            {
                index = ItemIds.Count;
                _items[item] = index;
                ItemIds.Add(item);
            }
            if (!_users.TryGetValue(user, out var events))
            {
                _users[user] = events = [];
                _userOrder.Add(user);
            }
            events.Add((index, type, time, events.Count));
        }

        public InteractionData Build(bool hasTypes, bool hasTimestamps, bool sortByTime)
        {
            var users = new List<UserSequence>(_userOrder.Count);
            foreach (var id in _userOrder)
            {
                var events = _users[id];
                if (sortByTime)
                {
                    events.Sort(static (a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : a.Order.CompareTo(b.Order));
                }
                users.Add(new UserSequence(id,
                    events.Select(static e => e.Item).ToArray(),
                    events.Select(static e => e.Type).ToArray(),
                    events.Select(static e => e.Time).ToArray(),
                    events.Select(static e => e.Type == 4).ToArray()));
            }
            return new InteractionData(users, ItemIds, hasTypes, hasTimestamps);
        }
    }

    /// <summary>The non-blank lines with their 1-based numbers, for messages that name the line.</summary>
    private static IEnumerable<(int Line, string Text)> Lines(TextReader reader)
    {
        var line = 0;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (!string.IsNullOrWhiteSpace(text))
            {
                yield return (line, text);
            }
        }
    }

    private static InteractionData ReadPairs(TextReader reader, string name)
    {
        var builder = new Builder();
        foreach (var (line, text) in Lines(reader))
        {
            var parts = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2)
            {
                throw new DataFormatException($"{name} line {line}: expected 'user item' (two fields), got {parts.Length} field(s): '{Shorten(text)}'");
            }
            builder.Add(parts[0], parts[1]);
        }
        return builder.Build(hasTypes: false, hasTimestamps: false, sortByTime: false);
    }

    private static InteractionData ReadSequences(TextReader reader, string name)
    {
        var builder = new Builder();
        foreach (var (line, text) in Lines(reader))
        {
            var parts = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 2)
            {
                throw new DataFormatException($"{name} line {line}: expected 'user item1 item2 ...', got only '{Shorten(text)}'");
            }
            for (var i = 1; i < parts.Length; i++)
            {
                builder.Add(parts[0], parts[i]);
            }
        }
        return builder.Build(hasTypes: false, hasTimestamps: false, sortByTime: false);
    }

    private static InteractionData ReadTaobao(TextReader reader, string name)
    {
        var builder = new Builder();
        foreach (var (line, text) in Lines(reader))
        {
            var parts = text.Split(',');
            if (line == 1 && parts.Length > 0 && parts[0].Trim().Equals("user_id", StringComparison.OrdinalIgnoreCase))
            {
                continue; // header
            }
            if (parts.Length != 5)
            {
                throw new DataFormatException($"{name} line {line}: expected 5 comma-separated fields (user_id,item_id,category_id,behavior_type,timestamp), got {parts.Length}");
            }
            var type = parts[3].Trim() switch
            {
                "pv" => (byte)0,
                "fav" => (byte)2, // a favourite is an engagement between a view and a cart: counted as a click
                "cart" => (byte)3,
                "buy" => (byte)4,
                var other => throw new DataFormatException($"{name} line {line}: behavior_type '{Shorten(other)}' is not one of pv, fav, cart, buy"),
            };
            if (!long.TryParse(parts[4], NumberStyles.Integer, CultureInfo.InvariantCulture, out var timestamp))
            {
                throw new DataFormatException($"{name} line {line}: timestamp '{Shorten(parts[4])}' is not a whole number of Unix seconds");
            }
            builder.Add(parts[0].Trim(), parts[1].Trim(), type, timestamp);
        }
        return builder.Build(hasTypes: true, hasTimestamps: true, sortByTime: true);
    }

    private static InteractionData ReadJsonl(TextReader reader, string name)
    {
        var builder = new Builder();
        // The server's own rules, except that history may be arbitrarily old and the clock is not consulted.
        var validator = new Domain.Events.EventValidator(new Domain.Events.EventValidationOptions { MaxFutureSkew = TimeSpan.FromDays(36_500) }, TimeProvider.System);
        var errors = new List<Domain.Events.FieldError>();
        foreach (var (line, text) in Lines(reader))
        {
            var prefix = $"{name} line {line}: ";
            var input = Contracts.BatchReader.ReadEventObject(System.Text.Encoding.UTF8.GetBytes(text), prefix, errors);
            if (input is null || !validator.TryValidate(input, prefix, out var e, errors))
            {
                var error = errors[0];
                throw new DataFormatException($"{error.Field}: {error.Message}".Replace(": : ", ": ", StringComparison.Ordinal));
            }
            if (e!.ItemId is not null) // a search without an item says nothing about items
            {
                builder.Add(e.UserId, e.ItemId, (byte)e.Type, e.Timestamp.ToUnixTimeSeconds());
            }
        }
        return builder.Build(hasTypes: true, hasTimestamps: true, sortByTime: true);
    }

    private static string Shorten(string value) => value.Length <= 60 ? value : value[..60] + "…";
}
