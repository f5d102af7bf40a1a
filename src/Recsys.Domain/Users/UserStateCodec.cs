using Recsys.Domain.Catalogue;
using Recsys.Domain.Events;

namespace Recsys.Domain.Users;

/// <summary>
/// The persisted form of a user's state. Items are stored by external id, not by this process's
/// dense index, so a state written by one silo reads back in another. <paramref name="clock"/> dates what a decode
/// keeps of the dedup ids.
/// </summary>
public sealed class UserStateCodec(ItemRegistry items, UserStateOptions options, TimeProvider clock)
{
    private const ushort Magic = 0x5355; // "US"

    // 2: each dedup id carries the minute it was accepted. 1 (read only): ids without times, read as accepted now.
    private const byte FormatVersion = 2;
    private const byte FirstFormatVersion = 1;

    // Every commit encodes the whole state (a few KB): one buffer per thread, reused, spares growing and copying a
    // fresh stream each time; only the result is allocated.
    [ThreadStatic]
    private static MemoryStream? t_buffer;

    private const int MaxKeptBufferBytes = 1 << 20;

    public byte[] Encode(UserState state)
    {
        var buffer = t_buffer ??= new MemoryStream(8 * 1024);
        buffer.SetLength(0);
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(FormatVersion);
            writer.Write(state.UserId);
            writer.Write(state.EventCount);
            writer.Write(state.LastEventMs);
            var window = state.Window;
            writer.Write(window.Length);
            foreach (var record in window)
            {
                WriteId(writer, record.ItemIndex);
                writer.Write((byte)record.Type);
                writer.Write(record.TimestampMs);
            }
            var (older, newer) = state.EventKeysOldestFirst();
            writer.Write(older.Length + newer.Length);
            WriteLittleEndian(writer, older.Span);
            WriteLittleEndian(writer, newer.Span);
            var (olderMinutes, newerMinutes) = state.EventKeyMinutesOldestFirst();
            WriteLittleEndian(writer, olderMinutes.Span);
            WriteLittleEndian(writer, newerMinutes.Span);
            writer.Write(state.Purchased.Count);
            foreach (var item in state.Purchased)
            {
                WriteId(writer, item);
            }
            writer.Write(state.Queries.Count);
            foreach (var query in state.Queries)
            {
                writer.Write(query);
            }
        }
        var encoded = buffer.ToArray();
        if (buffer.Capacity > MaxKeptBufferBytes)
        {
            t_buffer = null; // an outsized state does not pin its buffer to the thread
        }
        return encoded;
    }

    /// <summary>
    /// Values as <see cref="BinaryWriter"/> writes each (little-endian), in one copy where the machine is little-endian:
    /// the dedup keys and their minutes are most of a record.
    /// </summary>
    private static void WriteLittleEndian<T>(BinaryWriter writer, ReadOnlySpan<T> values) where T : unmanaged
    {
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values);
        if (BitConverter.IsLittleEndian)
        {
            writer.Write(bytes);
            return;
        }
        var size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        Span<byte> element = stackalloc byte[size];
        for (var i = 0; i < bytes.Length; i += size)
        {
            bytes.Slice(i, size).CopyTo(element);
            element.Reverse();
            writer.Write(element);
        }
    }

    /// <summary>An item id as <see cref="BinaryWriter.Write(string)"/> writes it, from the registry's cached UTF-8 bytes.</summary>
    private void WriteId(BinaryWriter writer, int itemIndex)
    {
        var utf8 = items.GetIdUtf8(itemIndex);
        writer.Write7BitEncodedInt(utf8.Length);
        writer.Write(utf8);
    }

    public UserState Decode(ReadOnlySpan<byte> data)
    {
        try
        {
            using var stream = new MemoryStream(data.ToArray(), writable: false);
            using var reader = new BinaryReader(stream);
            if (reader.ReadUInt16() != Magic)
            {
                throw new InvalidDataException("not a user state record (bad magic number)");
            }
            var version = reader.ReadByte();
            if (version is not (FormatVersion or FirstFormatVersion))
            {
                throw new InvalidDataException($"user state format version {version} is not supported (this build reads version {FormatVersion})");
            }
            var userId = reader.ReadString();
            var eventCount = reader.ReadInt64();
            var lastEventMs = reader.ReadInt64();
            var window = new BehaviourRecord[ReadCount(reader, stream)];
            for (var i = 0; i < window.Length; i++)
            {
                var item = items.GetOrAdd(reader.ReadString());
                var type = reader.ReadByte();
                if (type > (byte)BehaviourType.Purchase)
                {
                    throw new InvalidDataException($"behaviour type {type} is unknown");
                }
                window[i] = new BehaviourRecord(item, (BehaviourType)type, reader.ReadInt64());
            }
            var keys = new ulong[ReadCount(reader, stream)];
            for (var i = 0; i < keys.Length; i++)
            {
                keys[i] = reader.ReadUInt64();
            }
            var nowMs = clock.GetUtcNow().ToUnixTimeMilliseconds();
            var minutes = new ushort[keys.Length];
            for (var i = 0; i < minutes.Length; i++)
            {
                minutes[i] = version == FirstFormatVersion ? UserState.Minute(nowMs) : reader.ReadUInt16();
            }
            var purchased = new int[ReadCount(reader, stream)];
            for (var i = 0; i < purchased.Length; i++)
            {
                purchased[i] = items.GetOrAdd(reader.ReadString());
            }
            var queries = new string[ReadCount(reader, stream)];
            for (var i = 0; i < queries.Length; i++)
            {
                queries[i] = reader.ReadString();
            }
            if (stream.Position != stream.Length)
            {
                throw new InvalidDataException($"{stream.Length - stream.Position} unexpected bytes after the record");
            }
            var state = new UserState(userId, options);
            state.Restore(window, keys, minutes, purchased, queries, eventCount, lastEventMs, nowMs);
            return state;
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException("user state record is truncated");
        }
    }

    private static int ReadCount(BinaryReader reader, Stream stream)
    {
        var count = reader.ReadInt32();
        if (count < 0 || count > stream.Length - stream.Position)
        {
            throw new InvalidDataException($"user state record is corrupt (count {count} does not fit the remaining bytes)");
        }
        return count;
    }
}
