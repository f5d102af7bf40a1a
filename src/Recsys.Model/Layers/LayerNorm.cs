using System.Numerics.Tensors;
using Recsys.Model.Numerics;

namespace Recsys.Model.Layers;

/// <summary>Normalises each row to zero mean and unit variance, then scales and shifts per feature.</summary>
public sealed class LayerNorm
{
    private const float Epsilon = 1e-8f;
    private Matrix? _normalised;
    private float[] _inverseStd = [];
    private Matrix? _output;
    private Matrix? _inputGrad;

    public LayerNorm(string name, int features)
    {
        Gain = new Parameter(name + ".gain", 1, features, decay: false);
        Shift = new Parameter(name + ".shift", 1, features, decay: false);
        Gain.Fill(1);
    }

    public Parameter Gain { get; }
    public Parameter Shift { get; }
    public IEnumerable<Parameter> Parameters => [Gain, Shift];

    public Matrix Forward(Matrix x)
    {
        var n = x.Cols;
        var xhat = Matrix.Ensure(ref _normalised, x.Rows, n);
        var y = Matrix.Ensure(ref _output, x.Rows, n);
        if (_inverseStd.Length < x.Rows)
        {
            _inverseStd = new float[Math.Max(x.Rows, _inverseStd.Length * 2)];
        }
        var gain = Gain.Value.Row(0);
        var shift = Shift.Value.Row(0);
        for (var i = 0; i < x.Rows; i++)
        {
            var row = x.Row(i);
            var mean = TensorPrimitives.Sum(row) / n;
            var normalised = xhat.Row(i);
            TensorPrimitives.Subtract(row, mean, normalised);
            var variance = TensorPrimitives.SumOfSquares(normalised) / n;
            var inverseStd = 1f / MathF.Sqrt(variance + Epsilon);
            _inverseStd[i] = inverseStd;
            TensorPrimitives.Multiply(normalised, inverseStd, normalised);
            TensorPrimitives.FusedMultiplyAdd(normalised, gain, shift, y.Row(i));
        }
        return y;
    }

    public Matrix Backward(Matrix dy)
    {
        var n = dy.Cols;
        var xhat = _normalised!;
        var dx = Matrix.Ensure(ref _inputGrad, dy.Rows, n);
        var gain = Gain.Value.Row(0);
        var dGain = Gain.Grad.Row(0);
        var dShift = Shift.Grad.Row(0);
        for (var i = 0; i < dy.Rows; i++)
        {
            var g = dy.Row(i);
            var normalised = xhat.Row(i);
            TensorPrimitives.FusedMultiplyAdd(g, normalised, dGain, dGain);
            TensorPrimitives.Add(dShift, g, dShift);
            // dxhat = dy·gain; dx = invStd·(dxhat − mean(dxhat) − xhat·mean(dxhat·xhat))
            var dxRow = dx.Row(i);
            TensorPrimitives.Multiply(g, gain, dxRow);
            var meanD = TensorPrimitives.Sum(dxRow) / n;
            var meanDx = TensorPrimitives.Dot(dxRow, normalised) / n;
            TensorPrimitives.MultiplyAdd(normalised, -meanDx, dxRow, dxRow);
            TensorPrimitives.Subtract(dxRow, meanD, dxRow);
            TensorPrimitives.Multiply(dxRow, _inverseStd[i], dxRow);
        }
        return dx;
    }
}
