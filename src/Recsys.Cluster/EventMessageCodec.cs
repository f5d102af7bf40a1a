using Recsys.Domain.Events;

namespace Recsys.Cluster;

/// <summary>
/// The body of one stream message: one user's validated events of one request, in order. Binary, versioned by its
/// first two bytes, so a silo reading a message written by a newer or older release fails loudly, never guesses.
/// </summary>
public static class EventMessageCodec
{
    private const byte Magic = 0xE7;
    private const byte FormatVersion = 1;

    public static byte[] Encode(IReadOnlyList<BehaviourEvent> events)
    {
        using var buffer = new MemoryStream(32 + events.Count * 96);
        using (var writer = new BinaryWriter(buffer))
        {
            writer.Write(Magic);
            writer.Write(FormatVersion);
            writer.Write7BitEncodedInt(events.Count);
            foreach (var e in events)
            {
                writer.Write(e.EventId);
                writer.Write(e.UserId);
                WriteOptional(writer, e.ItemId);
                writer.Write((byte)e.Type);
                writer.Write(e.Timestamp.UtcTicks);
                writer.Write((short)e.Timestamp.Offset.TotalMinutes);
                WriteOptional(writer, e.Query);
                WriteOptional(writer, e.RecommendationId);
            }
        }
        return buffer.ToArray();
    }

    public static BehaviourEvent[] Decode(ReadOnlyMemory<byte> body)
    {
        using var reader = new BinaryReader(new MemoryStream(body.ToArray(), writable: false));
        if (reader.ReadByte() != Magic)
        {
            throw new InvalidDataException("not an event message (bad first byte)");
        }
        var version = reader.ReadByte();
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"event message format {version} is not known to this silo (it reads {FormatVersion})");
        }
        var count = reader.Read7BitEncodedInt();
        if (count < 1)
        {
            throw new InvalidDataException("an event message must carry at least one event");
        }
        var events = new BehaviourEvent[count];
        for (var i = 0; i < events.Length; i++)
        {
            var eventId = reader.ReadString();
            var userId = reader.ReadString();
            var itemId = ReadOptional(reader);
            var type = (BehaviourType)reader.ReadByte();
            var ticks = reader.ReadInt64();
            var offset = TimeSpan.FromMinutes(reader.ReadInt16());
            var timestamp = new DateTimeOffset(ticks + offset.Ticks, offset);
            events[i] = new BehaviourEvent(eventId, userId, itemId, type, timestamp, ReadOptional(reader)) { RecommendationId = ReadOptional(reader) };
        }
        return events;
    }

    private static void WriteOptional(BinaryWriter writer, string? value)
    {
        writer.Write(value is not null);
        if (value is not null)
        {
            writer.Write(value);
        }
    }

    private static string? ReadOptional(BinaryReader reader) => reader.ReadBoolean() ? reader.ReadString() : null;
}
