using Recsys.Model.Numerics;

namespace Recsys.Model.Layers;

/// <summary>
/// Position-wise feed-forward: Linear → GELU → dropout → Linear. GELU (tanh form, as PyTorch's
/// approximate="tanh") is smooth, so finite-difference checks see no kinks, and is what BERT4Rec and gSASRec use.
/// </summary>
public sealed class FeedForward
{
    private static readonly float s_c = MathF.Sqrt(2f / MathF.PI);
    private const float Cubic = 0.044715f;
    private readonly Dropout _dropout;
    private Matrix? _preActivation;

    public FeedForward(string name, int dim, int hidden, float dropout, Random random, IGemm gemm)
    {
        Inner = new Linear(name + ".inner", dim, hidden, gemm);
        Outer = new Linear(name + ".outer", hidden, dim, gemm);
        _dropout = new Dropout(dropout, random);
    }

    public Linear Inner { get; }
    public Linear Outer { get; }
    public IEnumerable<Parameter> Parameters => Inner.Parameters.Concat(Outer.Parameters);

    public void Init(Random random)
    {
        Inner.Init(random);
        Outer.Init(random);
    }

    public Matrix Forward(Matrix x, bool training)
    {
        var hidden = Inner.Forward(x);
        var pre = Matrix.Ensure(ref _preActivation, hidden.Rows, hidden.Cols);
        hidden.Span.CopyTo(pre.Span);
        var data = hidden.Span;
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = Gelu(data[i]);
        }
        _dropout.Forward(hidden, training);
        return Outer.Forward(hidden);
    }

    public Matrix Backward(Matrix dy)
    {
        var dHidden = Outer.Backward(dy);
        _dropout.Backward(dHidden);
        var pre = _preActivation!.Span;
        var grad = dHidden.Span;
        for (var i = 0; i < grad.Length; i++)
        {
            grad[i] *= GeluDerivative(pre[i]);
        }
        return Inner.Backward(dHidden);
    }

    public static float Gelu(float x) => 0.5f * x * (1f + MathF.Tanh(s_c * (x + Cubic * x * x * x)));

    public static float GeluDerivative(float x)
    {
        var inner = s_c * (x + Cubic * x * x * x);
        var tanh = MathF.Tanh(inner);
        return 0.5f * (1f + tanh) + 0.5f * x * (1f - tanh * tanh) * s_c * (1f + 3f * Cubic * x * x);
    }
}
