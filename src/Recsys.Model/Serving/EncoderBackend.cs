using Recsys.Model.Layers;
using Recsys.Model.Numerics;
using Recsys.Model.Training;

namespace Recsys.Model.Serving;

/// <summary>
/// Turns batches of histories into intent embeddings. The CPU backend is the one there is; a GPU backend
/// implements the same interface, and nothing that calls it (actors, batchers) changes.
/// </summary>
public interface IEncoderBackend
{
    string Name { get; }

    /// <summary>
    /// Encodes <paramref name="histories"/> with <paramref name="model"/>: row i of <paramref name="intents"/>
    /// (histories × dim) gets the intent of history i, <paramref name="purchaseIntent"/>[i] its purchase
    /// probability (NaN when the model has no purchase head).
    /// </summary>
    void Encode(ServingModel model, IReadOnlyList<UserSequence> histories, Span<float> intents, Span<float> purchaseIntent);
}

/// <summary>
/// The C# encoder (OpenBLAS sgemm when present). Not thread-safe: one instance per inference worker. Keeps the
/// encoders of the three most recently loaded models (primary, A/B candidate, and the one a swap just retired), so
/// neither an A/B split nor a hot swap copies weights per batch.
/// </summary>
public sealed class CpuEncoderBackend : IEncoderBackend
{
    private const int MaxEncoders = 3;
    private readonly List<(ServingModel Model, SequenceEncoder Encoder)> _encoders = [];
    private TokenBatch _batch = new(64 * 50);
    private byte[] _types = [];
    private byte[] _gaps = [];
    private Matrix? _last;

    public string Name => "cpu";

    public void Encode(ServingModel model, IReadOnlyList<UserSequence> histories, Span<float> intents, Span<float> purchaseIntent)
    {
        var encoder = EncoderFor(model);
        var config = encoder.Config;
        var dim = config.Dim;
        if (_types.Length < config.MaxLength)
        {
            _types = new byte[config.MaxLength];
            _gaps = new byte[config.MaxLength];
        }
        var capacity = histories.Count * config.MaxLength;
        if (_batch.Items.Length < capacity)
        {
            _batch = new TokenBatch(capacity);
        }
        _batch.Clear();
        foreach (var history in histories)
        {
            if (history.Items.Length == 0)
            {
                throw new ArgumentException($"user {history.UserId} has no history to encode (cold users get the fallback)", nameof(histories));
            }
            SequenceInputs.Append(_batch, history, history.Items.Length, config, _types, _gaps);
        }
        var hidden = encoder.Forward(_batch, training: false);
        var last = Matrix.Ensure(ref _last, histories.Count, dim);
        for (var i = 0; i < histories.Count; i++)
        {
            hidden.Row(_batch.Offsets[i + 1] - 1).CopyTo(last.Row(i));
        }
        last.Span.CopyTo(intents);
        if (encoder.PurchaseHead is { } head)
        {
            var logits = head.Forward(last);
            for (var i = 0; i < histories.Count; i++)
            {
                purchaseIntent[i] = NextItemLoss.Sigmoid(logits.Data[i]);
            }
        }
        else
        {
            purchaseIntent[..histories.Count].Fill(float.NaN);
        }
    }

    private SequenceEncoder EncoderFor(ServingModel model)
    {
        foreach (var (known, encoder) in _encoders)
        {
            if (ReferenceEquals(known, model))
            {
                return encoder;
            }
        }
        if (_encoders.Count == MaxEncoders)
        {
            _encoders.RemoveAt(0);
        }
        var created = model.CreateEncoder();
        _encoders.Add((model, created));
        return created;
    }
}
