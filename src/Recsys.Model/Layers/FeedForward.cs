using Recsys.Model.Numerics;

namespace Recsys.Model.Layers;

/// <summary>Position-wise feed-forward: Linear → ReLU → dropout → Linear.</summary>
public sealed class FeedForward
{
    private readonly Dropout _dropout;

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
        var data = hidden.Span;
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = MathF.Max(data[i], 0f);
        }
        _dropout.Forward(hidden, training);
        return Outer.Forward(hidden);
    }

    public Matrix Backward(Matrix dy)
    {
        var dHidden = Outer.Backward(dy);
        _dropout.Backward(dHidden);
        // The hidden buffer holds ReLU(·) after dropout: zero where the unit was off or dropped.
        var hidden = Inner.LastOutput!.Span;
        var grad = dHidden.Span;
        for (var i = 0; i < grad.Length; i++)
        {
            if (hidden[i] <= 0f)
            {
                grad[i] = 0f;
            }
        }
        return Inner.Backward(dHidden);
    }
}
