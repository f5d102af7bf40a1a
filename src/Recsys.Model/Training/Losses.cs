using System.Numerics.Tensors;
using Recsys.Model.Layers;
using Recsys.Model.Numerics;

namespace Recsys.Model.Training;

/// <summary>
/// Next-item objectives over hidden states and the shared item table. Each returns the mean loss over the
/// tokens that have a target (target 0 means none), writes dLoss/dHidden and accumulates item-table gradients.
/// </summary>
public sealed class NextItemLoss(IGemm gemm)
{
    private Matrix? _negativeVectors;
    private Matrix? _negativeLogits;
    private Matrix? _negativeGrads;

    /// <summary>SASRec's objective: −log σ(h·e₊) − log(1 − σ(h·e₋)) with one sampled negative per target.</summary>
    public static float BinaryCrossEntropy(Matrix hidden, ReadOnlySpan<int> targets, ReadOnlySpan<int> negatives, Parameter items, Matrix dHidden)
    {
        dHidden.Clear();
        var count = CountTargets(targets);
        if (count == 0)
        {
            return 0f;
        }
        var scale = 1f / count;
        double loss = 0;
        for (var t = 0; t < hidden.Rows; t++)
        {
            if (targets[t] == 0)
            {
                continue;
            }
            var h = hidden.Row(t);
            var dh = dHidden.Row(t);
            var positive = items.Value.Row(targets[t]);
            var negative = items.Value.Row(negatives[t]);
            var sp = TensorPrimitives.Dot(h, positive);
            var sn = TensorPrimitives.Dot(h, negative);
            loss += Softplus(-sp) + Softplus(sn);
            var gp = (Sigmoid(sp) - 1f) * scale;
            var gn = Sigmoid(sn) * scale;
            TensorPrimitives.MultiplyAdd(positive, gp, dh, dh);
            TensorPrimitives.MultiplyAdd(negative, gn, dh, dh);
            var dPositive = items.GradRow(targets[t]);
            TensorPrimitives.MultiplyAdd(h, gp, dPositive, dPositive);
            var dNegative = items.GradRow(negatives[t]);
            TensorPrimitives.MultiplyAdd(h, gn, dNegative, dNegative);
        }
        return (float)(loss / count);
    }

    /// <summary>
    /// Softmax cross-entropy of the target against negatives shared by the whole batch (one matrix product);
    /// a negative that happens to be a token's target is masked out for that token.
    /// </summary>
    public float SampledSoftmax(Matrix hidden, ReadOnlySpan<int> targets, ReadOnlySpan<int> negatives, Parameter items, Matrix dHidden)
    {
        dHidden.Clear();
        var count = CountTargets(targets);
        if (count == 0)
        {
            return 0f;
        }
        var dim = hidden.Cols;
        var n = negatives.Length;
        var vectors = Matrix.Ensure(ref _negativeVectors, n, dim);
        for (var j = 0; j < n; j++)
        {
            items.Value.Row(negatives[j]).CopyTo(vectors.Row(j));
        }
        var logits = Matrix.Ensure(ref _negativeLogits, hidden.Rows, n + 1);
        // logits[:, 1..] = H·Nᵀ ; logits[:, 0] = h·e_target
        gemm.Multiply(false, true, hidden.Rows, n, dim, 1f, hidden.Span, dim, vectors.Span, dim, 0f, logits.Data.AsSpan(1), n + 1);
        var grads = Matrix.Ensure(ref _negativeGrads, hidden.Rows, n);
        grads.Clear();
        var scale = 1f / count;
        double loss = 0;
        for (var t = 0; t < hidden.Rows; t++)
        {
            if (targets[t] == 0)
            {
                continue;
            }
            var row = logits.Row(t);
            var target = targets[t];
            row[0] = TensorPrimitives.Dot(hidden.Row(t), items.Value.Row(target));
            for (var j = 0; j < n; j++)
            {
                if (negatives[j] == target)
                {
                    row[j + 1] = float.NegativeInfinity;
                }
            }
            // p = softmax(row) computed in place, vectorised; dlogit = (p − onehot₀)·scale
            var max = TensorPrimitives.Max(row);
            TensorPrimitives.Subtract(row, max, row);
            var shiftedTarget = row[0];
            TensorPrimitives.Exp(row, row);
            var sum = TensorPrimitives.Sum(row);
            loss += MathF.Log(sum) - shiftedTarget;
            TensorPrimitives.Multiply(row, scale / sum, row);
            row[0] -= scale;
            var dh = dHidden.Row(t);
            TensorPrimitives.MultiplyAdd(items.Value.Row(target), row[0], dh, dh);
            var dTarget = items.GradRow(target);
            TensorPrimitives.MultiplyAdd(hidden.Row(t), row[0], dTarget, dTarget);
            row[1..].CopyTo(grads.Row(t));
        }
        // dH += G·N ; dN = Gᵀ·H, scattered to the item rows
        gemm.Multiply(false, false, hidden.Rows, dim, n, 1f, grads.Span, n, vectors.Span, dim, 1f, dHidden.Span, dim);
        gemm.Multiply(true, false, n, dim, hidden.Rows, 1f, grads.Span, n, hidden.Span, dim, 0f, vectors.Span, dim);
        for (var j = 0; j < n; j++)
        {
            var dNegative = items.GradRow(negatives[j]);
            TensorPrimitives.Add(dNegative, vectors.Row(j), dNegative);
        }
        return (float)(loss / count);
    }

    /// <summary>Binary cross-entropy of the purchase head's logits against 0/1 labels (label −1: no label); adds into dLogits.</summary>
    public static float PurchaseBinaryCrossEntropy(Matrix logits, ReadOnlySpan<sbyte> labels, float weight, Matrix dLogits)
    {
        var count = 0;
        foreach (var label in labels)
        {
            count += label >= 0 ? 1 : 0;
        }
        dLogits.Clear();
        if (count == 0)
        {
            return 0f;
        }
        double loss = 0;
        for (var t = 0; t < logits.Rows; t++)
        {
            if (labels[t] < 0)
            {
                continue;
            }
            var z = logits.Data[t];
            loss += labels[t] == 1 ? Softplus(-z) : Softplus(z);
            dLogits.Data[t] = weight * (Sigmoid(z) - labels[t]) / count;
        }
        return (float)(weight * loss / count);
    }

    private static int CountTargets(ReadOnlySpan<int> targets)
    {
        var count = 0;
        foreach (var target in targets)
        {
            count += target != 0 ? 1 : 0;
        }
        return count;
    }

    public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    /// <summary>log(1 + eˣ), stable for large |x|.</summary>
    public static float Softplus(float x) => x > 0 ? x + MathF.Log(1f + MathF.Exp(-x)) : MathF.Log(1f + MathF.Exp(x));
}
