using System.Numerics.Tensors;
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
    private Matrix? _tanh;
    private float[] _scratch = [];

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
        var pre = Matrix.Ensure(ref _preActivation, hidden.Rows, hidden.Cols).Span;
        var tanh = Matrix.Ensure(ref _tanh, hidden.Rows, hidden.Cols).Span;
        var h = hidden.Span;
        h.CopyTo(pre);
        // Vectorised GELU: t = tanh(c·(x + 0.044715x³)); y = 0.5·x·(1 + t). t is kept for the backward pass.
        TensorPrimitives.Multiply(pre, pre, tanh);
        TensorPrimitives.Multiply(tanh, pre, tanh);
        TensorPrimitives.MultiplyAdd(tanh, Cubic, pre, tanh);
        TensorPrimitives.Multiply(tanh, s_c, tanh);
        TensorPrimitives.Tanh(tanh, tanh);
        TensorPrimitives.Add(tanh, 1f, h);
        TensorPrimitives.Multiply(h, pre, h);
        TensorPrimitives.Multiply(h, 0.5f, h);
        _dropout.Forward(hidden, training);
        return Outer.Forward(hidden);
    }

    public Matrix Backward(Matrix dy)
    {
        var dHidden = Outer.Backward(dy);
        _dropout.Backward(dHidden);
        var x = _preActivation!.Span;
        var t = _tanh!.Span;
        var grad = dHidden.Span;
        if (_scratch.Length < grad.Length)
        {
            _scratch = new float[Math.Max(grad.Length, _scratch.Length * 2)];
        }
        var derivative = _scratch.AsSpan(0, grad.Length);
        // GELU'(x) = 0.5·(1 + t) + 0.5·x·(1 − t²)·c·(1 + 3·0.044715·x²)
        TensorPrimitives.Multiply(x, x, derivative);
        TensorPrimitives.Multiply(derivative, 3f * Cubic * s_c, derivative);
        TensorPrimitives.Add(derivative, s_c, derivative);
        TensorPrimitives.Multiply(derivative, x, derivative);
        for (var i = 0; i < derivative.Length; i++)
        {
            derivative[i] = 0.5f * (1f + t[i]) + 0.5f * derivative[i] * (1f - t[i] * t[i]);
        }
        TensorPrimitives.Multiply(grad, derivative, grad);
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
