using Recsys.Model.Numerics;

namespace Recsys.Model.UnitTests;

/// <summary>
/// Central finite differences against analytic gradients. The forward pass runs in float32, so the step is
/// 1e-2 and the tolerance relative, with a floor for gradients near zero.
/// </summary>
internal static class GradientCheck
{
    public const float Step = 1e-2f;

    /// <summary>Checks <paramref name="samples"/> random entries of <paramref name="values"/> (or all, if fewer).</summary>
    public static void Check(string name, float[] values, int length, ReadOnlySpan<float> analytic, Func<double> loss, Random random,
        int samples = 40, double tolerance = 2e-2, double floor = 2e-3, float step = Step)
    {
        var indexes = length <= samples ? Enumerable.Range(0, length).ToArray() : Enumerable.Range(0, samples).Select(_ => random.Next(length)).ToArray();
        var worst = 0.0;
        foreach (var i in indexes)
        {
            var original = values[i];
            values[i] = original + step;
            var plus = loss();
            values[i] = original - step;
            var minus = loss();
            values[i] = original;
            var numeric = (plus - minus) / (2 * (double)step);
            var error = Math.Abs(numeric - analytic[i]);
            var allowed = tolerance * Math.Max(Math.Abs(numeric), Math.Abs(analytic[i])) + floor;
            Assert.True(error <= allowed, $"{name}[{i}]: analytic {analytic[i]:G6}, numeric {numeric:G6} (error {error:G3} > {allowed:G3})");
            worst = Math.Max(worst, error);
        }
    }

    /// <summary>Σ y ⊙ r in double: a loss whose gradient with respect to y is r.</summary>
    public static double Project(Matrix y, Matrix r)
    {
        var sum = 0.0;
        for (var i = 0; i < y.Length; i++)
        {
            sum += (double)y.Data[i] * r.Data[i];
        }
        return sum;
    }

    public static Matrix Random(Random random, int rows, int cols, float scale = 1f)
    {
        var m = new Matrix(rows, cols);
        for (var i = 0; i < m.Length; i++)
        {
            m.Data[i] = (float)(random.NextDouble() * 2 - 1) * scale;
        }
        return m;
    }

    public static Matrix Copy(Matrix m)
    {
        var copy = new Matrix(m.Rows, m.Cols);
        m.Span.CopyTo(copy.Span);
        return copy;
    }
}
