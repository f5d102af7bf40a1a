using Recsys.Model.Layers;
using Recsys.Model.Numerics;
using Recsys.Model.Training;

namespace Recsys.Model.UnitTests;

public class EncoderTests
{
    private readonly Random _random = new(11);

    private static SequenceModelConfig Config(float dropout = 0f, bool extras = true) => new()
    {
        ItemCount = 30,
        MaxLength = 6,
        Dim = 8,
        Blocks = 2,
        Heads = 2,
        Dropout = dropout,
        BehaviourTypes = extras ? 5 : 0,
        GapBuckets = extras ? 4 : 0,
        PurchaseHead = extras,
        Seed = 3,
    };

    private static TokenBatch Batch(params int[][] sequences)
    {
        var batch = new TokenBatch(16);
        foreach (var items in sequences)
        {
            var types = items.Select(i => (byte)(i % 5)).ToArray();
            var gaps = items.Select(i => (byte)(i % 4)).ToArray();
            batch.Add(items, types, gaps, maxLength: 6);
        }
        return batch;
    }

    [Fact]
    public void The_whole_encoder_with_the_sasrec_loss_matches_finite_differences()
    {
        var encoder = new SequenceEncoder(Config());
        var batch = Batch([3, 7, 9, 2], [5], [1, 4, 4]);
        var targets = new[] { 7, 9, 2, 0, 0, 4, 4, 0 };
        var negatives = new[] { 11, 12, 13, 0, 0, 14, 15, 0 };
        CheckModel(encoder, batch, (hidden, dHidden) => NextItemLoss.BinaryCrossEntropy(hidden, targets, negatives, encoder.ItemEmbeddings, dHidden));
    }

    [Fact]
    public void The_whole_encoder_with_sampled_softmax_matches_finite_differences()
    {
        var encoder = new SequenceEncoder(Config());
        var loss = new NextItemLoss(encoder.Gemm);
        var batch = Batch([3, 7, 9, 2], [5, 6]);
        var targets = new[] { 7, 9, 2, 0, 6, 0 };
        var negatives = new[] { 20, 21, 9, 22, 23 }; // 9 is a target of token 1: masked there
        CheckModel(encoder, batch, (hidden, dHidden) => loss.SampledSoftmax(hidden, targets, negatives, encoder.ItemEmbeddings, dHidden));
    }

    [Fact]
    public void The_purchase_head_matches_finite_differences()
    {
        var encoder = new SequenceEncoder(Config());
        var head = encoder.PurchaseHead!;
        var batch = Batch([3, 7, 9], [5, 2]);
        sbyte[] labels = [0, 1, -1, 1, 0];
        var dLogits = new Matrix(5, 1);
        CheckModel(encoder, batch, (hidden, dHidden) =>
        {
            var logits = head.Forward(hidden);
            var value = NextItemLoss.PurchaseBinaryCrossEntropy(logits, labels, 0.5f, dLogits);
            head.Backward(dLogits).Span.CopyTo(dHidden.Span);
            return value;
        });
    }

    [Fact]
    public void A_token_never_sees_later_tokens_or_other_sequences()
    {
        var encoder = new SequenceEncoder(Config());
        var alone = Copy(encoder.Forward(Batch([3, 7, 9]), training: false));
        var packed = Copy(encoder.Forward(Batch([3, 7, 9], [1, 2, 3, 4, 5, 6], [8]), training: false));
        for (var i = 0; i < alone.Length; i++)
        {
            Assert.Equal(alone.Data[i], packed.Data[i], 5);
        }
        // Changing the last item changes only the last token's state: the first two rows stay put.
        var changed = Copy(encoder.Forward(Batch([3, 7, 10]), training: false));
        Assert.Equal(alone.Data.AsSpan(0, 16).ToArray(), changed.Data.AsSpan(0, 16).ToArray());
        Assert.NotEqual(alone.Row(2).ToArray(), changed.Row(2).ToArray());
    }

    [Fact]
    public void The_same_seed_gives_the_same_model_and_the_same_dropout()
    {
        var a = new SequenceEncoder(Config(dropout: 0.3f));
        var b = new SequenceEncoder(Config(dropout: 0.3f));
        var batch = Batch([3, 7, 9, 2], [5]);
        Assert.Equal(Copy(a.Forward(batch, training: true)).Data, Copy(b.Forward(batch, training: true)).Data);
        var inference = Copy(a.Forward(batch, training: false));
        Assert.Equal(inference.Data, Copy(a.Forward(batch, training: false)).Data); // no dropout at inference
        Assert.NotEqual(inference.Data, Copy(a.Forward(batch, training: true)).Data);
    }

    [Fact]
    public void Dropout_zeroes_about_its_rate_and_keeps_the_expected_value()
    {
        var dropout = new Dropout(0.25f, new Random(5));
        var x = new Matrix(100, 100);
        x.Span.Fill(1f);
        dropout.Forward(x, training: true);
        var zeros = x.Data.Count(v => v == 0f);
        Assert.InRange(zeros, 2300, 2700);
        Assert.InRange(x.Data.Average(), 0.97, 1.03);
        Assert.All(x.Data, v => Assert.True(v == 0f || Math.Abs(v - 4f / 3f) < 1e-6));
    }

    private void CheckModel(SequenceEncoder encoder, TokenBatch batch, Func<Matrix, Matrix, float> loss)
    {
        encoder.ZeroGrad();
        var hidden = encoder.Forward(batch, training: false);
        var dHidden = new Matrix(hidden.Rows, hidden.Cols);
        loss(hidden, dHidden);
        encoder.Backward(dHidden);
        var analytic = encoder.Parameters.ToDictionary(p => p, p => p.Grad.Span.ToArray());

        double Loss()
        {
            var h = encoder.Forward(batch, training: false);
            var scratch = new Matrix(h.Rows, h.Cols);
            var snapshot = encoder.Parameters.Select(p => p.Grad.Span.ToArray()).ToList();
            var value = loss(h, scratch);
            // The loss accumulates into gradients as a side effect: undo it so the analytic values stay put.
            foreach (var (p, saved) in encoder.Parameters.Zip(snapshot))
            {
                saved.CopyTo(p.Grad.Span);
            }
            return value;
        }

        foreach (var (parameter, grad) in analytic)
        {
            // Item vectors are small (0.125) and layer norm divides by their spread: a smaller step stays in the linear range.
            GradientCheck.Check(parameter.Name, parameter.Value.Data, parameter.Value.Length, grad, Loss, _random, samples: 25, step: 2e-3f);
        }
    }

    private static Matrix Copy(Matrix m) => GradientCheck.Copy(m);
}
