using Recsys.Model.Layers;

namespace Recsys.Model.Training;

/// <summary>Turns a user's history into model inputs: the last window of items with types and time-gap buckets.</summary>
public static class SequenceInputs
{
    /// <summary>Log-spaced gap buckets: 0 for the first event, then ⌊log₂(1 + minutes)⌋ + 1, capped.</summary>
    public static byte GapBucket(UserSequence user, int index, int buckets)
    {
        if (buckets <= 1 || index == 0 || user.TimestampsSec.Length == 0)
        {
            return 0;
        }
        var minutes = Math.Max(0, user.TimestampsSec[index] - user.TimestampsSec[index - 1]) / 60.0;
        return (byte)Math.Min(buckets - 1, 1 + (int)Math.Log2(1 + minutes));
    }

    /// <summary>Appends the events [start, end) of the user, cut to the model's window, to the batch; returns the first index used.</summary>
    public static int Append(TokenBatch batch, UserSequence user, int end, SequenceModelConfig config, Span<byte> typeScratch, Span<byte> gapScratch)
    {
        var start = Math.Max(0, end - config.MaxLength);
        var length = end - start;
        var types = typeScratch[..length];
        var gaps = gapScratch[..length];
        for (var i = 0; i < length; i++)
        {
            types[i] = config.BehaviourTypes > 0 && user.Types.Length > 0 ? user.Types[start + i] : (byte)0;
            gaps[i] = GapBucket(user, start + i, config.GapBuckets);
        }
        batch.Add(user.Items.AsSpan(start, length), types, gaps, config.MaxLength);
        return start;
    }
}
