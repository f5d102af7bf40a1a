using Recsys.Model.Numerics;
using Recsys.Model.Training;

namespace Recsys.Model.Serving;

/// <summary>
/// A checkpoint loaded for serving: its version, vocabulary and item vectors, read-only once built. Encoders are
/// not thread-safe (they own activation buffers), so each inference worker gets its own encoder; the weights are
/// shared, not copied (a million-item table is 256 MB).
/// </summary>
public sealed class ServingModel
{
    private readonly ModelCheckpoint _checkpoint;
    private readonly Dictionary<string, int> _indexById;

    public ServingModel(ModelCheckpoint checkpoint)
    {
        _checkpoint = checkpoint;
        _indexById = new Dictionary<string, int>(checkpoint.ItemIds.Count, StringComparer.Ordinal);
        for (var i = 1; i < checkpoint.ItemIds.Count; i++)
        {
            _indexById[checkpoint.ItemIds[i]] = i;
        }
    }

    public string Version => _checkpoint.Metadata.Version;

    public SequenceModelConfig Config => _checkpoint.Model.Config;

    public TrainingMetadata Metadata => _checkpoint.Metadata;

    public int Dim => Config.Dim;

    /// <summary>External item ids by model index; index 0 is the unknown item.</summary>
    public IReadOnlyList<string> ItemIds => _checkpoint.ItemIds;

    /// <summary>The item table (rows by model index): scores are intent · row. Treat as read-only.</summary>
    public Matrix ItemVectors => _checkpoint.Model.ItemEmbeddings.Value;

    /// <summary>When this process loaded the model.</summary>
    public DateTimeOffset LoadedAt { get; } = DateTimeOffset.UtcNow;

    public bool HasPurchaseHead => _checkpoint.Model.PurchaseHead is not null;

    public static ServingModel Load(string path) => new(CheckpointFile.Load(path));

    /// <summary>The model index of an external item id; 0 (the unknown item) when the model never saw it.</summary>
    public int IndexOf(string itemId) => _indexById.GetValueOrDefault(itemId);

    /// <summary>An encoder with its own buffers over the model's shared weights, for one worker thread.</summary>
    public SequenceEncoder CreateEncoder()
    {
        var encoder = new SequenceEncoder(Config with { Dropout = 0 });
        foreach (var (target, source) in encoder.Parameters.Zip(_checkpoint.Model.Parameters))
        {
            target.ShareValue(source);
        }
        return encoder;
    }

    /// <summary>
    /// A user's history as the model reads it, built by the same code the trainer uses (so served and offline
    /// embeddings agree): items in the model's vocabulary, behaviour types and timestamps.
    /// </summary>
    public static UserSequence History(string userId, int[] items, byte[] types, long[] timestampsSec) =>
        new(userId, items, types, timestampsSec, []);
}

/// <summary>A user's intent as one model version saw it after a given number of the user's events.</summary>
public sealed record IntentEmbedding(string ModelVersion, float[] Vector, float? PurchaseIntent, long StateVersion);
