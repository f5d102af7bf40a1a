using Recsys.Model.Layers;
using Recsys.Model.Numerics;

namespace Recsys.Model;

/// <summary>
/// The SASRec-class encoder: input embeddings, causal pre-LN Transformer blocks and a final layer norm.
/// Produces one hidden vector per token; the vector at a sequence's last token is the user's intent embedding.
/// </summary>
public sealed class SequenceEncoder
{
    private readonly Dropout _inputDropout;
    private Matrix? _stream;

    public SequenceEncoder(SequenceModelConfig config, IGemm? gemm = null)
    {
        config.Validate();
        Config = config;
        Gemm = gemm ?? Numerics.Gemm.Default;
        Random = new Random(config.Seed);
        Input = new InputEmbedding(config.ItemCount, config.MaxLength, config.Dim, config.BehaviourTypes, config.GapBuckets);
        _inputDropout = new Dropout(config.Dropout, Random);
        Blocks = Enumerable.Range(0, config.Blocks)
            .Select(i => new TransformerBlock($"block{i}", config.Dim, config.Heads, config.Dropout, Random, Gemm)).ToArray();
        FinalNorm = new LayerNorm("final", config.Dim);
        PurchaseHead = config.PurchaseHead ? new Linear("purchase", config.Dim, 1, Gemm) : null;
        Input.Init(Random);
        foreach (var block in Blocks)
        {
            block.Init(Random);
        }
        PurchaseHead?.Init(Random);
    }

    public SequenceModelConfig Config { get; }
    public IGemm Gemm { get; }

    /// <summary>The model's seeded generator (initialisation, dropout, negative sampling): one seed, one run.</summary>
    public Random Random { get; }

    public InputEmbedding Input { get; }
    public TransformerBlock[] Blocks { get; }
    public LayerNorm FinalNorm { get; }
    public Linear? PurchaseHead { get; }

    /// <summary>The item table, shared by input and output.</summary>
    public Parameter ItemEmbeddings => Input.Items;

    public IEnumerable<Parameter> Parameters =>
        Input.Parameters.Concat(Blocks.SelectMany(static b => b.Parameters)).Concat(FinalNorm.Parameters)
            .Concat(PurchaseHead?.Parameters ?? []);

    /// <summary>Hidden states for every token of the batch (a buffer owned by the encoder).</summary>
    public Matrix Forward(TokenBatch batch, bool training)
    {
        var x = Input.Forward(batch);
        var stream = Matrix.Ensure(ref _stream, x.Rows, x.Cols);
        x.Span.CopyTo(stream.Span);
        _inputDropout.Forward(stream, training);
        var layout = batch.Layout;
        foreach (var block in Blocks)
        {
            block.Forward(stream, layout, training);
        }
        return FinalNorm.Forward(stream);
    }

    /// <summary>Back-propagates the gradient of the hidden states into every parameter's gradient.</summary>
    public void Backward(Matrix dHidden)
    {
        var dx = FinalNorm.Backward(dHidden);
        var stream = _stream!;
        dx.Span.CopyTo(stream.Span); // the residual stream's buffer is free now: reuse it for its gradient
        for (var i = Blocks.Length - 1; i >= 0; i--)
        {
            Blocks[i].Backward(stream);
        }
        _inputDropout.Backward(stream);
        Input.Backward(stream);
    }

    public void ZeroGrad()
    {
        foreach (var parameter in Parameters)
        {
            parameter.ZeroGrad();
        }
    }
}
