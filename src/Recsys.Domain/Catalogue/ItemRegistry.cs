using System.Collections.Concurrent;

namespace Recsys.Domain.Catalogue;

/// <summary>
/// Maps external item ids to dense indexes, for items in the catalogue and for items only seen in
/// events (catalogues lag behind event streams). Indexes are never reused; lookups are lock-free.
/// </summary>
public sealed class ItemRegistry
{
    private readonly ConcurrentDictionary<string, int> _indexById = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private string[] _ids = new string[1024];
    private byte[][] _utf8 = new byte[1024][]; // each id's UTF-8 bytes: state encoding writes ids on every commit
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public int GetOrAdd(string itemId)
    {
        if (_indexById.TryGetValue(itemId, out var index))
        {
            return index;
        }
        lock (_gate)
        {
            if (_indexById.TryGetValue(itemId, out index))
            {
                return index;
            }
            index = _count;
            if (index == _ids.Length)
            {
                var grown = new string[_ids.Length * 2];
                Array.Copy(_ids, grown, _ids.Length);
                var grownUtf8 = new byte[grown.Length][];
                Array.Copy(_utf8, grownUtf8, _utf8.Length);
                Volatile.Write(ref _ids, grown);
                Volatile.Write(ref _utf8, grownUtf8);
            }
            _ids[index] = itemId;
            _utf8[index] = System.Text.Encoding.UTF8.GetBytes(itemId);
            Volatile.Write(ref _count, index + 1);
            _indexById[itemId] = index;
            return index;
        }
    }

    public bool TryGetIndex(string itemId, out int index) => _indexById.TryGetValue(itemId, out index);

    public string GetId(int index)
    {
        if ((uint)index >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, "no item has this index");
        }
        return Volatile.Read(ref _ids)[index];
    }

    /// <summary>The UTF-8 bytes of the item's id (what <see cref="System.IO.BinaryWriter"/> writes for the string).</summary>
    public ReadOnlySpan<byte> GetIdUtf8(int index)
    {
        if ((uint)index >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, "no item has this index");
        }
        return Volatile.Read(ref _utf8)[index];
    }
}
