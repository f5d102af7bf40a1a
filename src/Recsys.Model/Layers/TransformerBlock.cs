using System.Numerics.Tensors;
using Recsys.Model.Numerics;

namespace Recsys.Model.Layers;

/// <summary>A pre-LN block: x += dropout(attention(LN(x))); x += dropout(FFN(LN(x))).</summary>
public sealed class TransformerBlock
{
    private readonly Dropout _attentionDropout;
    private readonly Dropout _feedForwardDropout;
    private Matrix? _scratch;

    public TransformerBlock(string name, int dim, int heads, float dropout, Random random, IGemm gemm)
    {
        AttentionNorm = new LayerNorm(name + ".ln1", dim);
        Attention = new CausalSelfAttention(name + ".attention", dim, heads, gemm);
        FeedForwardNorm = new LayerNorm(name + ".ln2", dim);
        FeedForward = new FeedForward(name + ".ffn", dim, dim, dropout, random, gemm);
        _attentionDropout = new Dropout(dropout, random);
        _feedForwardDropout = new Dropout(dropout, random);
    }

    public LayerNorm AttentionNorm { get; }
    public CausalSelfAttention Attention { get; }
    public LayerNorm FeedForwardNorm { get; }
    public FeedForward FeedForward { get; }

    public IEnumerable<Parameter> Parameters =>
        AttentionNorm.Parameters.Concat(Attention.Parameters).Concat(FeedForwardNorm.Parameters).Concat(FeedForward.Parameters);

    public void Init(Random random)
    {
        Attention.Init(random);
        FeedForward.Init(random);
    }

    /// <summary>Updates the residual stream <paramref name="x"/> in place.</summary>
    public void Forward(Matrix x, SequenceLayout layout, bool training)
    {
        var attended = Attention.Forward(AttentionNorm.Forward(x), layout);
        _attentionDropout.Forward(attended, training);
        TensorPrimitives.Add(x.Span, attended.Span, x.Span);
        var fed = FeedForward.Forward(FeedForwardNorm.Forward(x), training);
        _feedForwardDropout.Forward(fed, training);
        TensorPrimitives.Add(x.Span, fed.Span, x.Span);
    }

    /// <summary>Takes the gradient of the block's output and leaves the gradient of its input in <paramref name="dx"/>.</summary>
    public void Backward(Matrix dx)
    {
        var branch = Matrix.Ensure(ref _scratch, dx.Rows, dx.Cols);
        dx.Span.CopyTo(branch.Span);
        _feedForwardDropout.Backward(branch);
        var dNormed = FeedForward.Backward(branch);
        TensorPrimitives.Add(dx.Span, FeedForwardNorm.Backward(dNormed).Span, dx.Span);

        dx.Span.CopyTo(branch.Span);
        _attentionDropout.Backward(branch);
        var dAttentionInput = Attention.Backward(branch);
        TensorPrimitives.Add(dx.Span, AttentionNorm.Backward(dAttentionInput).Span, dx.Span);
    }
}
