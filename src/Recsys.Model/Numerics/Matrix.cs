namespace Recsys.Model.Numerics;

/// <summary>A row-major matrix of floats: the only shape the model needs (tokens × features).</summary>
public sealed class Matrix
{
    public Matrix(int rows, int cols)
    {
        Rows = rows;
        Cols = cols;
        Data = new float[rows * cols];
    }

    public Matrix(int rows, int cols, float[] data)
    {
        if (data.Length < rows * cols)
        {
            throw new ArgumentException($"{data.Length} values cannot hold {rows}×{cols}", nameof(data));
        }
        Rows = rows;
        Cols = cols;
        Data = data;
    }

    public int Rows { get; private set; }
    public int Cols { get; }
    public float[] Data { get; private set; }

    public int Length => Rows * Cols;

    public Span<float> Span => Data.AsSpan(0, Length);

    public Span<float> Row(int row) => Data.AsSpan(row * Cols, Cols);

    /// <summary>Reuses the buffer for a different number of rows, growing it when needed (contents undefined).</summary>
    public Matrix Resize(int rows)
    {
        if (rows * Cols > Data.Length)
        {
            Data = new float[Math.Max(rows * Cols, Data.Length * 2)];
        }
        Rows = rows;
        return this;
    }

    public void Clear() => Span.Clear();

    /// <summary>A buffer for <paramref name="rows"/>×<paramref name="cols"/>, reused across calls when it is large enough.</summary>
    public static Matrix Ensure(ref Matrix? buffer, int rows, int cols)
    {
        if (buffer is null || buffer.Cols != cols)
        {
            buffer = new Matrix(rows, cols);
            return buffer;
        }
        return buffer.Resize(rows);
    }
}
