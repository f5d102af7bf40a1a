using System.Numerics.Tensors;
using Recsys.Model.Layers;

namespace Recsys.Model.Training;

/// <summary>
/// Adam with decoupled weight decay. Sparse parameters (the item table) are updated lazily: only the rows
/// the batch touched, so a step costs the batch rather than the catalogue.
/// </summary>
public sealed class AdamW
{
    private readonly Dictionary<Parameter, (float[] M, float[] V)> _moments = [];
    private readonly List<Parameter> _parameters;
    private int _step;

    public AdamW(IEnumerable<Parameter> parameters, float learningRate = 1e-3f, float weightDecay = 0f, float beta1 = 0.9f, float beta2 = 0.98f, float epsilon = 1e-9f)
    {
        _parameters = parameters.ToList();
        LearningRate = learningRate;
        WeightDecay = weightDecay;
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        foreach (var p in _parameters)
        {
            _moments[p] = (new float[p.Value.Length], new float[p.Value.Length]);
        }
    }

    public float LearningRate { get; set; }
    public float WeightDecay { get; }
    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Epsilon { get; }
    public int Steps => _step;

    public void Step()
    {
        _step++;
        var correction1 = 1f - MathF.Pow(Beta1, _step);
        var correction2 = 1f - MathF.Pow(Beta2, _step);
        var stepSize = LearningRate * MathF.Sqrt(correction2) / correction1;
        foreach (var p in _parameters)
        {
            var (m, v) = _moments[p];
            var cols = p.Value.Cols;
            if (p.SparseRows)
            {
                foreach (var row in p.TouchedRows)
                {
                    var offset = row * cols;
                    Update(p.Value.Data.AsSpan(offset, cols), p.Grad.Data.AsSpan(offset, cols), m.AsSpan(offset, cols), v.AsSpan(offset, cols), stepSize, p.Decay);
                }
            }
            else
            {
                Update(p.Value.Span, p.Grad.Span, m, v, stepSize, p.Decay);
            }
        }
    }

    private void Update(Span<float> value, ReadOnlySpan<float> grad, Span<float> m, Span<float> v, float stepSize, bool decay)
    {
        if (decay && WeightDecay > 0)
        {
            TensorPrimitives.Multiply(value, 1f - LearningRate * WeightDecay, value);
        }
        for (var i = 0; i < value.Length; i++)
        {
            var g = grad[i];
            m[i] = Beta1 * m[i] + (1 - Beta1) * g;
            v[i] = Beta2 * v[i] + (1 - Beta2) * g * g;
            value[i] -= stepSize * m[i] / (MathF.Sqrt(v[i]) + Epsilon);
        }
    }
}
