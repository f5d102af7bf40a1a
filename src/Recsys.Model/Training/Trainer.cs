using System.Diagnostics;
using Recsys.Model.Layers;
using Recsys.Model.Numerics;

namespace Recsys.Model.Training;

public enum LossKind
{
    /// <summary>SASRec's binary cross-entropy with one sampled negative per position (reproduces the paper).</summary>
    Bce,
    /// <summary>Softmax cross-entropy against many negatives shared by the batch (the default: stronger).</summary>
    SampledSoftmax,
}

public sealed record TrainingOptions
{
    public int Epochs { get; init; } = 200;
    public int BatchSize { get; init; } = 128;
    public float LearningRate { get; init; } = 1e-3f;
    public float WeightDecay { get; init; }
    public LossKind Loss { get; init; } = LossKind.SampledSoftmax;
    /// <summary>Negatives per batch for the sampled softmax; at least the catalogue size means all items (exact cross-entropy).</summary>
    public int Negatives { get; init; } = 4096;

    /// <summary>Validate every this many epochs; stop after <see cref="Patience"/> validations without improvement.</summary>
    public int EvaluateEvery { get; init; } = 5;
    public int Patience { get; init; } = 4;
    public EvaluationProtocol ValidationProtocol { get; init; } = EvaluationProtocol.Full;

    /// <summary>Validate on at most this many users (0: all).</summary>
    public int ValidationUsers { get; init; } = 10_000;

    /// <summary>Weight of the purchase-intent loss next to the next-item loss.</summary>
    public float PurchaseWeight { get; init; } = 0.3f;

    public void Validate()
    {
        if (Epochs < 1 || BatchSize < 1 || LearningRate <= 0 || Negatives < 1 || EvaluateEvery < 1 || Patience < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Epochs), "epochs, batch size, learning rate, negatives, evaluation interval and patience must be positive");
        }
    }
}

public sealed record EpochReport(int Epoch, double Loss, double Seconds, int Tokens, EvaluationResult? Validation, bool Improved);

public sealed record TrainingResult(SequenceEncoder Model, EvaluationResult? BestValidation, int BestEpoch, IReadOnlyList<EpochReport> Epochs, double Seconds);

public static class Trainer
{
    public static TrainingResult Train(InteractionData data, SequenceModelConfig config, TrainingOptions options,
        Action<EpochReport>? onEpoch = null, Action<int, int>? onBatch = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        if (config.ItemCount != data.ItemCount)
        {
            throw new ArgumentException($"the model has {config.ItemCount} items but the data has {data.ItemCount}");
        }
        var model = new SequenceEncoder(config);
        var random = model.Random;
        var optimiser = new AdamW(model.Parameters, options.LearningRate, options.WeightDecay);
        var loss = new NextItemLoss(model.Gemm);
        var trainable = data.Users.Where(static u => LeaveOneOut.TrainLength(u) >= 2).ToArray();
        var batch = new TokenBatch(options.BatchSize * config.MaxLength);
        var targets = new int[options.BatchSize * config.MaxLength];
        // As many negatives as the catalogue has items means the full softmax: every item, no sampling.
        var fullSoftmax = options.Loss == LossKind.SampledSoftmax && options.Negatives >= data.ItemCount - 1;
        var negatives = new int[Math.Max(fullSoftmax ? data.ItemCount - 1 : options.Negatives, options.BatchSize * config.MaxLength)];
        var labels = new sbyte[options.BatchSize * config.MaxLength];
        var types = new byte[config.MaxLength];
        var gaps = new byte[config.MaxLength];
        if (fullSoftmax)
        {
            for (var j = 0; j < data.ItemCount - 1; j++)
            {
                negatives[j] = j + 1;
            }
        }
        Matrix? dHidden = null;
        Matrix? dLogits = null;
        var usePurchase = model.PurchaseHead is not null && data.HasTypes && options.PurchaseWeight > 0;

        var reports = new List<EpochReport>();
        EvaluationResult? best = null;
        var bestEpoch = 0;
        float[][]? bestWeights = null;
        var stale = 0;
        var total = Stopwatch.StartNew();
        var batches = (trainable.Length + options.BatchSize - 1) / options.BatchSize;

        for (var epoch = 1; epoch <= options.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            random.Shuffle(trainable);
            double lossSum = 0;
            var tokens = 0;
            for (var b = 0; b < batches; b++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                batch.Clear();
                var users = trainable.AsSpan(b * options.BatchSize, Math.Min(options.BatchSize, trainable.Length - b * options.BatchSize));
                foreach (var user in users)
                {
                    var end = LeaveOneOut.TrainLength(user) - 1; // inputs [.., end), each predicting the next event
                    var offset = batch.TokenCount;
                    var start = SequenceInputs.Append(batch, user, end, config, types, gaps);
                    for (var t = 0; t < end - start; t++)
                    {
                        var next = start + t + 1;
                        targets[offset + t] = user.Items[next];
                        labels[offset + t] = usePurchase ? (sbyte)(user.Purchases[next] ? 1 : 0) : (sbyte)-1;
                        if (options.Loss == LossKind.Bce)
                        {
                            negatives[offset + t] = SampleUnseen(user, data.ItemCount, random);
                        }
                    }
                }
                var count = batch.TokenCount;
                var hidden = model.Forward(batch, training: true);
                var dh = Matrix.Ensure(ref dHidden, count, config.Dim);
                float value;
                if (options.Loss == LossKind.Bce)
                {
                    value = NextItemLoss.BinaryCrossEntropy(hidden, targets.AsSpan(0, count), negatives.AsSpan(0, count), model.ItemEmbeddings, dh);
                }
                else
                {
                    int negativeCount;
                    if (fullSoftmax)
                    {
                        negativeCount = data.ItemCount - 1; // every item once: exact cross-entropy (set up before the loop)
                    }
                    else
                    {
                        negativeCount = options.Negatives;
                        for (var j = 0; j < negativeCount; j++)
                        {
                            negatives[j] = 1 + random.Next(data.ItemCount - 1);
                        }
                    }
                    value = loss.SampledSoftmax(hidden, targets.AsSpan(0, count), negatives.AsSpan(0, negativeCount), model.ItemEmbeddings, dh);
                }
                if (usePurchase)
                {
                    var head = model.PurchaseHead!;
                    var logits = head.Forward(hidden);
                    var dl = Matrix.Ensure(ref dLogits, count, 1);
                    value += NextItemLoss.PurchaseBinaryCrossEntropy(logits, labels.AsSpan(0, count), options.PurchaseWeight, dl);
                    var dFromHead = head.Backward(dl);
                    System.Numerics.Tensors.TensorPrimitives.Add(dh.Span, dFromHead.Span, dh.Span);
                }
                model.Backward(dh);
                optimiser.Step();
                model.ZeroGrad();
                lossSum += value * count;
                tokens += count;
                onBatch?.Invoke(b + 1, batches);
            }
            var seconds = clock.Elapsed.TotalSeconds;
            EvaluationResult? validation = null;
            var improved = false;
            if (epoch % options.EvaluateEvery == 0 || epoch == options.Epochs)
            {
                validation = Evaluator.Evaluate(new ModelRanker(model), data, options.ValidationProtocol, EvaluationSplit.Validation,
                    maxUsers: options.ValidationUsers);
                if (best is null || validation.Ndcg > best.Ndcg)
                {
                    best = validation;
                    bestEpoch = epoch;
                    bestWeights = model.Parameters.Select(static p => p.Value.Span.ToArray()).ToArray();
                    improved = true;
                    stale = 0;
                }
                else
                {
                    stale++;
                }
            }
            var report = new EpochReport(epoch, lossSum / Math.Max(1, tokens), seconds, tokens, validation, improved);
            reports.Add(report);
            onEpoch?.Invoke(report);
            if (stale >= options.Patience)
            {
                break;
            }
        }
        if (bestWeights is not null)
        {
            foreach (var (parameter, weights) in model.Parameters.Zip(bestWeights))
            {
                weights.CopyTo(parameter.Value.Span);
            }
        }
        return new TrainingResult(model, best, bestEpoch, reports, total.Elapsed.TotalSeconds);
    }

    private static int SampleUnseen(UserSequence user, int itemCount, Random random)
    {
        int candidate;
        do
        {
            candidate = 1 + random.Next(itemCount - 1);
        }
        while (Array.IndexOf(user.Items, candidate) >= 0);
        return candidate;
    }
}
