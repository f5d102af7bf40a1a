namespace Recsys.Model.Layers;

/// <summary>
/// The inputs of a packed batch, one entry per token: item index (1-based; 0 means an item the model does
/// not know), position in the model's window, behaviour type and time-gap bucket.
/// </summary>
public sealed class TokenBatch
{
    public TokenBatch(int capacity)
    {
        Items = new int[capacity];
        Positions = new int[capacity];
        Types = new byte[capacity];
        Gaps = new byte[capacity];
        Offsets = new int[capacity + 1];
    }

    public int[] Items { get; private set; }
    public int[] Positions { get; private set; }
    public byte[] Types { get; private set; }
    public byte[] Gaps { get; private set; }
    public int[] Offsets { get; private set; }
    public int SequenceCount { get; private set; }
    public int TokenCount => Offsets[SequenceCount];

    public SequenceLayout Layout => new(Offsets, SequenceCount);

    public void Clear() => SequenceCount = 0;

    /// <summary>Appends one sequence (already cut to the model's window), oldest first; positions end at maxLength − 1.</summary>
    public void Add(ReadOnlySpan<int> items, ReadOnlySpan<byte> types, ReadOnlySpan<byte> gaps, int maxLength)
    {
        if (items.Length == 0 || items.Length > maxLength)
        {
            throw new ArgumentException($"a sequence must hold 1 to {maxLength} items; this one holds {items.Length}");
        }
        var start = TokenCount;
        EnsureCapacity(start + items.Length, SequenceCount + 1);
        items.CopyTo(Items.AsSpan(start));
        for (var i = 0; i < items.Length; i++)
        {
            // As in SASRec's left-padded windows, the newest item always sits at the last position.
            Positions[start + i] = maxLength - items.Length + i;
            Types[start + i] = types.IsEmpty ? (byte)0 : types[i];
            Gaps[start + i] = gaps.IsEmpty ? (byte)0 : gaps[i];
        }
        SequenceCount++;
        Offsets[SequenceCount] = start + items.Length;
    }

    private void EnsureCapacity(int tokens, int sequences)
    {
        if (tokens > Items.Length)
        {
            var size = Math.Max(tokens, Items.Length * 2);
            Items = Grow(Items, size);
            Positions = Grow(Positions, size);
            Types = Grow(Types, size);
            Gaps = Grow(Gaps, size);
        }
        if (sequences + 1 > Offsets.Length)
        {
            Offsets = Grow(Offsets, Math.Max(sequences + 1, Offsets.Length * 2));
        }
    }

    private static T[] Grow<T>(T[] array, int size)
    {
        var grown = new T[size];
        array.CopyTo(grown, 0);
        return grown;
    }
}
