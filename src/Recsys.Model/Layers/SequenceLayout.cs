namespace Recsys.Model.Layers;

/// <summary>
/// Where each sequence of a packed batch sits: sequence s holds tokens [Offsets[s], Offsets[s+1]). Packing
/// sequences end to end, with no padding, is what keeps short histories cheap.
/// </summary>
public sealed class SequenceLayout
{
    public SequenceLayout(int[] offsets, int count)
    {
        if (offsets.Length < count + 1 || offsets[0] != 0)
        {
            throw new ArgumentException("offsets must start at 0 and hold count + 1 entries", nameof(offsets));
        }
        Offsets = offsets;
        Count = count;
    }

    public int[] Offsets { get; }
    public int Count { get; }
    public int Tokens => Offsets[Count];

    public int Start(int sequence) => Offsets[sequence];
    public int Length(int sequence) => Offsets[sequence + 1] - Offsets[sequence];

    public static SequenceLayout FromLengths(IReadOnlyList<int> lengths)
    {
        var offsets = new int[lengths.Count + 1];
        for (var i = 0; i < lengths.Count; i++)
        {
            offsets[i + 1] = offsets[i] + lengths[i];
        }
        return new SequenceLayout(offsets, lengths.Count);
    }
}
