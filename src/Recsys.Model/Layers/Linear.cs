using System.Numerics.Tensors;
using Recsys.Model.Numerics;

namespace Recsys.Model.Layers;

/// <summary>y = x·W + b, W stored in×out.</summary>
public sealed class Linear
{
    private readonly IGemm _gemm;
    private Matrix? _input;
    private Matrix? _output;
    private Matrix? _inputGrad;

    public Linear(string name, int inputs, int outputs, IGemm gemm)
    {
        _gemm = gemm;
        Weight = new Parameter(name + ".weight", inputs, outputs);
        Bias = new Parameter(name + ".bias", 1, outputs, decay: false);
    }

    public Parameter Weight { get; }

    /// <summary>The last forward output (valid until the next forward).</summary>
    public Matrix? LastOutput => _output;
    public Parameter Bias { get; }
    public int Inputs => Weight.Value.Rows;
    public int Outputs => Weight.Value.Cols;

    public IEnumerable<Parameter> Parameters => [Weight, Bias];

    public void Init(Random random)
    {
        Weight.InitNormal(random, 1f / MathF.Sqrt(Inputs));
        Bias.Fill(0);
    }

    public Matrix Forward(Matrix x)
    {
        _input = x;
        var y = Matrix.Ensure(ref _output, x.Rows, Outputs);
        var bias = Bias.Value.Row(0);
        for (var i = 0; i < x.Rows; i++)
        {
            bias.CopyTo(y.Row(i));
        }
        _gemm.Multiply(false, false, x.Rows, Outputs, Inputs, 1f, x.Span, Inputs, Weight.Value.Span, Outputs, 1f, y.Span, Outputs);
        return y;
    }

    /// <summary>Accumulates dW and db; returns dx (a buffer owned by this layer).</summary>
    public Matrix Backward(Matrix dy)
    {
        var x = _input!;
        _gemm.Multiply(true, false, Inputs, Outputs, x.Rows, 1f, x.Span, Inputs, dy.Span, Outputs, 1f, Weight.Grad.Span, Outputs);
        var db = Bias.Grad.Row(0);
        for (var i = 0; i < dy.Rows; i++)
        {
            TensorPrimitives.Add(db, dy.Row(i), db);
        }
        var dx = Matrix.Ensure(ref _inputGrad, dy.Rows, Inputs);
        _gemm.Multiply(false, true, dy.Rows, Inputs, Outputs, 1f, dy.Span, Outputs, Weight.Value.Span, Outputs, 0f, dx.Span, Inputs);
        return dx;
    }
}
