using System.Collections.Concurrent;

namespace Recsys.Domain.Catalogue;

/// <summary>A catalogue item with its dense indexes, ready for filtering without string compares.</summary>
public sealed record CatalogueEntry(int Index, CatalogueItem Item, int CategoryIndex);

/// <summary>
/// The item attributes recommendations are filtered by. Readers never lock: an upsert swaps one
/// immutable entry, and growth publishes a new array.
/// </summary>
public sealed class ItemCatalogue
{
    public const int NoCategory = -1;

    private readonly ConcurrentDictionary<string, int> _categoryIndex = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _gate = new();
    private CatalogueEntry?[] _entries = new CatalogueEntry?[1024];
    private int _knownCount;

    public ItemCatalogue(ItemRegistry items) => Items = items;

    public ItemRegistry Items { get; }

    /// <summary>How many items have catalogue attributes (events may name more).</summary>
    public int KnownCount => Volatile.Read(ref _knownCount);

    public CatalogueEntry Upsert(CatalogueItem item)
    {
        var index = Items.GetOrAdd(item.ItemId);
        var category = item.Category is null ? NoCategory : _categoryIndex.GetOrAdd(item.Category, _ => _categoryIndex.Count);
        var entry = new CatalogueEntry(index, item, category);
        lock (_gate)
        {
            if (index >= _entries.Length)
            {
                var grown = new CatalogueEntry?[Math.Max(_entries.Length * 2, index + 1)];
                Array.Copy(_entries, grown, _entries.Length);
                Volatile.Write(ref _entries, grown);
            }
            if (_entries[index] is null)
            {
                _knownCount++;
            }
            Volatile.Write(ref _entries[index], entry);
        }
        return entry;
    }

    public CatalogueEntry? Get(int index)
    {
        var entries = Volatile.Read(ref _entries);
        return (uint)index < (uint)entries.Length ? Volatile.Read(ref entries[index]) : null;
    }

    public CatalogueEntry? Get(string itemId) => Items.TryGetIndex(itemId, out var index) ? Get(index) : null;

    /// <summary>The category's index, or <see cref="NoCategory"/> when no item has it.</summary>
    public int FindCategory(string category) => _categoryIndex.TryGetValue(category, out var index) ? index : NoCategory;

    /// <summary>Every entry, for scans that the ranked lists cannot answer (rare filters).</summary>
    public IEnumerable<CatalogueEntry> Entries()
    {
        var entries = Volatile.Read(ref _entries);
        var count = Items.Count;
        for (var i = 0; i < count && i < entries.Length; i++)
        {
            if (Volatile.Read(ref entries[i]) is { } entry)
            {
                yield return entry;
            }
        }
    }
}
