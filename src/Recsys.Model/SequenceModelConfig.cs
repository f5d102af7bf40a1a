namespace Recsys.Model;

/// <summary>The shape of a sequence model; saved in every checkpoint.</summary>
public sealed record SequenceModelConfig
{
    /// <summary>Item vocabulary including index 0 (unknown item).</summary>
    public required int ItemCount { get; init; }

    public int MaxLength { get; init; } = 50;
    public int Dim { get; init; } = 64;
    public int Blocks { get; init; } = 2;
    public int Heads { get; init; } = 1;
    /// <summary>0.5, as SASRec uses for sparse data; the same default served Games and both Beauty versions.</summary>
    public float Dropout { get; init; } = 0.5f;

    /// <summary>Behaviour-type embeddings (view, search, click, cart, purchase); 0 turns them off.</summary>
    public int BehaviourTypes { get; init; }

    /// <summary>Time-gap buckets (log-spaced gaps to the previous event); 0 turns them off.</summary>
    public int GapBuckets { get; init; }

    /// <summary>Whether the model has a purchase-intent head.</summary>
    public bool PurchaseHead { get; init; }

    public int Seed { get; init; } = 42;

    public void Validate()
    {
        if (ItemCount < 2 || MaxLength < 1 || Dim < 1 || Blocks < 0 || Heads < 1 || Dim % Heads != 0)
        {
            throw new ArgumentException($"invalid model shape: items {ItemCount}, length {MaxLength}, width {Dim}, blocks {Blocks}, heads {Heads} (width must divide by heads)");
        }
        if (Dropout is < 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Dropout), Dropout, "dropout must be in [0, 1)");
        }
        if (BehaviourTypes is < 0 or > 255 || GapBuckets is < 0 or > 255)
        {
            throw new ArgumentOutOfRangeException(nameof(BehaviourTypes), "type and gap vocabularies hold at most 255 entries");
        }
    }
}
