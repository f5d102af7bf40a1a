using System.Numerics.Tensors;
using Recsys.Model.Numerics;

namespace Recsys.Model.Layers;

/// <summary>
/// Multi-head self-attention where each token sees itself and the tokens before it in its own sequence
/// (causal, per packed sequence). Attention probabilities are kept for the backward pass.
/// </summary>
public sealed class CausalSelfAttention
{
    private readonly IGemm _gemm;
    private readonly int _dim;
    private readonly int _heads;
    private readonly int _headDim;
    private readonly float _scale;
    private SequenceLayout _layout = null!;
    private float[] _probabilities = [];
    private int[] _probabilityOffsets = [];
    private float[] _scratch = [];
    private Matrix? _context;
    private Matrix? _qkvGrad;

    public CausalSelfAttention(string name, int dim, int heads, IGemm gemm)
    {
        if (dim % heads != 0)
        {
            throw new ArgumentException($"the model width {dim} is not divisible by {heads} heads");
        }
        _gemm = gemm;
        _dim = dim;
        _heads = heads;
        _headDim = dim / heads;
        _scale = 1f / MathF.Sqrt(_headDim);
        Projection = new Linear(name + ".qkv", dim, 3 * dim, gemm);
        Output = new Linear(name + ".out", dim, dim, gemm);
    }

    public Linear Projection { get; }
    public Linear Output { get; }
    public IEnumerable<Parameter> Parameters => Projection.Parameters.Concat(Output.Parameters);

    public void Init(Random random)
    {
        Projection.Init(random);
        Output.Init(random);
    }

    public Matrix Forward(Matrix x, SequenceLayout layout)
    {
        _layout = layout;
        var qkv = Projection.Forward(x);
        var context = Matrix.Ensure(ref _context, x.Rows, _dim);
        PrepareProbabilities(layout);
        var q = qkv.Data;
        var stride = 3 * _dim;
        for (var s = 0; s < layout.Count; s++)
        {
            var start = layout.Start(s);
            var length = layout.Length(s);
            for (var h = 0; h < _heads; h++)
            {
                var p = Probabilities(s, h, length);
                var qOffset = start * stride + h * _headDim;
                _gemm.Multiply(false, true, length, length, _headDim, _scale,
                    q.AsSpan(qOffset), stride, q.AsSpan(qOffset + _dim), stride, 0f, p, length);
                for (var i = 0; i < length; i++)
                {
                    var row = p.Slice(i * length, length);
                    var visible = row[..(i + 1)];
                    TensorPrimitives.SoftMax(visible, visible);
                    row[(i + 1)..].Clear();
                }
                _gemm.Multiply(false, false, length, _headDim, length, 1f,
                    p, length, q.AsSpan(qOffset + 2 * _dim), stride, 0f, context.Data.AsSpan(start * _dim + h * _headDim), _dim);
            }
        }
        return Output.Forward(context);
    }

    public Matrix Backward(Matrix dy)
    {
        var dContext = Output.Backward(dy);
        var qkv = Projection.LastOutput!.Data;
        var dQkv = Matrix.Ensure(ref _qkvGrad, dy.Rows, 3 * _dim);
        var stride = 3 * _dim;
        var layout = _layout;
        for (var s = 0; s < layout.Count; s++)
        {
            var start = layout.Start(s);
            var length = layout.Length(s);
            if (_scratch.Length < length * length)
            {
                _scratch = new float[length * length];
            }
            for (var h = 0; h < _heads; h++)
            {
                var p = Probabilities(s, h, length);
                var dP = _scratch.AsSpan(0, length * length);
                var offset = start * stride + h * _headDim;
                var dO = dContext.Data.AsSpan(start * _dim + h * _headDim);
                // dP = dO·Vᵀ ; dV = Pᵀ·dO
                _gemm.Multiply(false, true, length, length, _headDim, 1f, dO, _dim, qkv.AsSpan(offset + 2 * _dim), stride, 0f, dP, length);
                _gemm.Multiply(true, false, length, _headDim, length, 1f, p, length, dO, _dim, 0f, dQkv.Data.AsSpan(offset + 2 * _dim), stride);
                // dS = P ⊙ (dP − Σ_j dP·P), row by row over the visible part
                for (var i = 0; i < length; i++)
                {
                    var pRow = p.Slice(i * length, i + 1);
                    var dRow = dP.Slice(i * length, length);
                    var dot = TensorPrimitives.Dot(dRow[..(i + 1)], pRow);
                    TensorPrimitives.Subtract(dRow[..(i + 1)], dot, dRow[..(i + 1)]);
                    TensorPrimitives.Multiply(dRow[..(i + 1)], pRow, dRow[..(i + 1)]);
                    dRow[(i + 1)..].Clear();
                }
                // dQ = scale·dS·K ; dK = scale·dSᵀ·Q
                _gemm.Multiply(false, false, length, _headDim, length, _scale, dP, length, qkv.AsSpan(offset + _dim), stride, 0f, dQkv.Data.AsSpan(offset), stride);
                _gemm.Multiply(true, false, length, _headDim, length, _scale, dP, length, qkv.AsSpan(offset), stride, 0f, dQkv.Data.AsSpan(offset + _dim), stride);
            }
        }
        return Projection.Backward(dQkv);
    }

    private void PrepareProbabilities(SequenceLayout layout)
    {
        if (_probabilityOffsets.Length < layout.Count + 1)
        {
            _probabilityOffsets = new int[layout.Count + 1];
        }
        var total = 0;
        for (var s = 0; s < layout.Count; s++)
        {
            _probabilityOffsets[s] = total;
            var length = layout.Length(s);
            total += length * length * _heads;
        }
        _probabilityOffsets[layout.Count] = total;
        if (_probabilities.Length < total)
        {
            _probabilities = new float[Math.Max(total, _probabilities.Length * 2)];
        }
    }

    private Span<float> Probabilities(int sequence, int head, int length) =>
        _probabilities.AsSpan(_probabilityOffsets[sequence] + head * length * length, length * length);
}
