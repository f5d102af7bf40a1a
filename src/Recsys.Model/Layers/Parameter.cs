using Recsys.Model.Numerics;

namespace Recsys.Model.Layers;

/// <summary>
/// A trainable matrix with its gradient. Embedding tables are <see cref="SparseRows"/>: only the rows a batch
/// touched carry gradient, and the optimiser updates only those (lazy Adam), so a step costs the batch, not the catalogue.
/// </summary>
public sealed class Parameter
{
    private bool[]? _touched;
    private readonly List<int> _touchedRows = [];
    private Matrix? _grad;

    public Parameter(string name, int rows, int cols, bool sparseRows = false, bool decay = true)
    {
        Name = name;
        Value = new Matrix(rows, cols);
        SparseRows = sparseRows;
        Decay = decay;
        if (sparseRows)
        {
            _touched = new bool[rows];
        }
    }

    public string Name { get; }
    public Matrix Value { get; private set; }

    /// <summary>Allocated on first use: an encoder that only serves never needs it (and item tables are large).</summary>
    public Matrix Grad => _grad ??= new Matrix(Value.Rows, Value.Cols);
    public bool SparseRows { get; }

    /// <summary>Whether weight decay applies (not to biases and layer-norm gains).</summary>
    public bool Decay { get; }

    /// <summary>Rows with gradient since the last <see cref="ZeroGrad"/> (sparse parameters only).</summary>
    public IReadOnlyList<int> TouchedRows => _touchedRows;

    /// <summary>The gradient row to accumulate into; marks it touched.</summary>
    public Span<float> GradRow(int row)
    {
        if (_touched is not null && !_touched[row])
        {
            _touched[row] = true;
            _touchedRows.Add(row);
        }
        return Grad.Row(row);
    }

    /// <summary>
    /// Reads its weights from <paramref name="source"/>'s matrix instead of its own: inference copies of one model
    /// share one set of weights (read-only while serving), and only their activation buffers are their own.
    /// </summary>
    public void ShareValue(Parameter source)
    {
        if (source.Value.Rows != Value.Rows || source.Value.Cols != Value.Cols)
        {
            throw new ArgumentException($"{Name}: cannot share {source.Value.Rows}×{source.Value.Cols} weights with a {Value.Rows}×{Value.Cols} parameter");
        }
        Value = source.Value;
    }

    public void ZeroGrad()
    {
        if (_grad is null)
        {
            return;
        }
        if (_touched is null)
        {
            Grad.Clear();
            return;
        }
        foreach (var row in _touchedRows)
        {
            Grad.Row(row).Clear();
            _touched[row] = false;
        }
        _touchedRows.Clear();
    }

    /// <summary>Truncated-normal-free initialisation: N(0, std²) clipped at ±2std, from the model's seeded generator.</summary>
    public void InitNormal(Random random, float std)
    {
        var data = Value.Span;
        for (var i = 0; i < data.Length; i++)
        {
            double g;
            do
            {
                g = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            }
            while (Math.Abs(g) > 2);
            data[i] = (float)(g * std);
        }
    }

    public void Fill(float value) => Value.Span.Fill(value);
}
