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
    /// <summary>
    /// Negatives per batch for the sampled softmax; at least the catalogue size means all items (exact cross-entropy).
    /// 1,024 with <see cref="Refit"/> is the one default that met the aims on Games and both Beauty sets (bench/README.md).
    /// </summary>
    public int Negatives { get; init; } = 1024;

    /// <summary>Validate every this many epochs; stop after <see cref="Patience"/> validations without improvement.</summary>
    public int EvaluateEvery { get; init; } = 5;
    public int Patience { get; init; } = 4;
    public EvaluationProtocol ValidationProtocol { get; init; } = EvaluationProtocol.Full;

    /// <summary>Validate on at most this many users (0: all).</summary>
    public int ValidationUsers { get; init; } = 10_000;

    /// <summary>
    /// After early stopping, train a fresh model for the chosen number of epochs on the validation targets too
    /// (the test target stays held out): the most recent events carry the newest items. On by default; it
    /// doubles the training time.
    /// </summary>
    public bool Refit { get; init; } = true;

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

public sealed record EpochReport(int Epoch, double Loss, double Seconds, int Tokens, EvaluationResult? Validation, bool Improved)
{
    /// <summary>An epoch of the final fit that also learns the validation targets (no validation possible then).</summary>
    public bool Refit { get; init; }
}

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
        var total = Stopwatch.StartNew();
        var model = new SequenceEncoder(config);
        var epochs = new EpochRunner(model, data, options, includeValidationTarget: false);
        var reports = new List<EpochReport>();
        EvaluationResult? best = null;
        var bestEpoch = 0;
        float[][]? bestWeights = null;
        var stale = 0;
        for (var epoch = 1; epoch <= options.Epochs; epoch++)
        {
            var (loss, tokens, seconds) = epochs.Run(onBatch, cancellationToken);
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
            var report = new EpochReport(epoch, loss, seconds, tokens, validation, improved);
            reports.Add(report);
            onEpoch?.Invoke(report);
            if (stale >= options.Patience)
            {
                break;
            }
        }
        if (options.Refit && bestEpoch > 0)
        {
            // Validation chose the number of epochs; a fresh model (same seed) now trains that long on the
            // validation targets too, so the newest events and items are learned before the test (or serving).
            model = new SequenceEncoder(config);
            epochs = new EpochRunner(model, data, options, includeValidationTarget: true);
            for (var epoch = 1; epoch <= bestEpoch; epoch++)
            {
                var (loss, tokens, seconds) = epochs.Run(onBatch, cancellationToken);
                var report = new EpochReport(epoch, loss, seconds, tokens, null, false) { Refit = true };
                reports.Add(report);
                onEpoch?.Invoke(report);
            }
        }
        else if (bestWeights is not null)
        {
            foreach (var (parameter, weights) in model.Parameters.Zip(bestWeights))
            {
                weights.CopyTo(parameter.Value.Span);
            }
        }
        return new TrainingResult(model, best, bestEpoch, reports, total.Elapsed.TotalSeconds);
    }

    /// <summary>One pass over the training users: batches, loss, backward and optimiser step, with buffers reused across epochs.</summary>
    private sealed class EpochRunner
    {
        private readonly SequenceEncoder _model;
        private readonly InteractionData _data;
        private readonly TrainingOptions _options;
        private readonly SequenceModelConfig _config;
        private readonly AdamW _optimiser;
        private readonly NextItemLoss _loss;
        private readonly UserSequence[] _users;
        private readonly bool _includeValidationTarget;
        private readonly TokenBatch _batch;
        private readonly int[] _targets;
        private readonly int[] _negatives;
        private readonly sbyte[] _labels;
        private readonly byte[] _types;
        private readonly byte[] _gaps;
        private readonly bool _fullSoftmax;
        private readonly bool _usePurchase;
        private Matrix? _dHidden;
        private Matrix? _dLogits;

        public EpochRunner(SequenceEncoder model, InteractionData data, TrainingOptions options, bool includeValidationTarget)
        {
            _model = model;
            _data = data;
            _options = options;
            _config = model.Config;
            _includeValidationTarget = includeValidationTarget;
            _optimiser = new AdamW(model.Parameters, options.LearningRate, options.WeightDecay);
            _loss = new NextItemLoss(model.Gemm);
            _users = data.Users.Where(u => TrainEnd(u) >= 2).ToArray();
            var tokens = options.BatchSize * _config.MaxLength;
            _batch = new TokenBatch(tokens);
            _targets = new int[tokens];
            _labels = new sbyte[tokens];
            _types = new byte[_config.MaxLength];
            _gaps = new byte[_config.MaxLength];
            // As many negatives as the catalogue has items means the full softmax: every item, no sampling.
            _fullSoftmax = options.Loss == LossKind.SampledSoftmax && options.Negatives >= data.ItemCount - 1;
            _negatives = new int[Math.Max(_fullSoftmax ? data.ItemCount - 1 : options.Negatives, tokens)];
            if (_fullSoftmax)
            {
                for (var j = 0; j < data.ItemCount - 1; j++)
                {
                    _negatives[j] = j + 1;
                }
            }
            _usePurchase = model.PurchaseHead is not null && data.HasTypes && options.PurchaseWeight > 0;
        }

        /// <summary>Events a user trains on: the training part, plus the validation target when refitting.</summary>
        private int TrainEnd(UserSequence user) =>
            LeaveOneOut.TrainLength(user) + (_includeValidationTarget && LeaveOneOut.HasTargets(user) ? 1 : 0);

        public (double Loss, int Tokens, double Seconds) Run(Action<int, int>? onBatch, CancellationToken cancellationToken)
        {
            var clock = Stopwatch.StartNew();
            var random = _model.Random;
            var batchSize = _options.BatchSize;
            random.Shuffle(_users);
            double lossSum = 0;
            var tokens = 0;
            var batches = (_users.Length + batchSize - 1) / batchSize;
            for (var b = 0; b < batches; b++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                _batch.Clear();
                foreach (var user in _users.AsSpan(b * batchSize, Math.Min(batchSize, _users.Length - b * batchSize)))
                {
                    var end = TrainEnd(user) - 1; // inputs [.., end), each predicting the next event
                    var offset = _batch.TokenCount;
                    var start = SequenceInputs.Append(_batch, user, end, _config, _types, _gaps);
                    for (var t = 0; t < end - start; t++)
                    {
                        var next = start + t + 1;
                        _targets[offset + t] = user.Items[next];
                        _labels[offset + t] = _usePurchase ? (sbyte)(user.Purchases[next] ? 1 : 0) : (sbyte)-1;
                        if (_options.Loss == LossKind.Bce)
                        {
                            _negatives[offset + t] = SampleUnseen(user, _data.ItemCount, random);
                        }
                    }
                }
                var count = _batch.TokenCount;
                lossSum += Step(count, random) * count;
                tokens += count;
                onBatch?.Invoke(b + 1, batches);
            }
            return (lossSum / Math.Max(1, tokens), tokens, clock.Elapsed.TotalSeconds);
        }

        private float Step(int count, Random random)
        {
            var model = _model;
            var hidden = model.Forward(_batch, training: true);
            var dh = Matrix.Ensure(ref _dHidden, count, _config.Dim);
            float value;
            if (_options.Loss == LossKind.Bce)
            {
                value = NextItemLoss.BinaryCrossEntropy(hidden, _targets.AsSpan(0, count), _negatives.AsSpan(0, count), model.ItemEmbeddings, dh);
            }
            else
            {
                // Full softmax: every item once, set up in the constructor; otherwise fresh uniform negatives.
                var negativeCount = _fullSoftmax ? _data.ItemCount - 1 : _options.Negatives;
                if (!_fullSoftmax)
                {
                    for (var j = 0; j < negativeCount; j++)
                    {
                        _negatives[j] = 1 + random.Next(_data.ItemCount - 1);
                    }
                }
                value = _loss.SampledSoftmax(hidden, _targets.AsSpan(0, count), _negatives.AsSpan(0, negativeCount), model.ItemEmbeddings, dh);
            }
            if (_usePurchase)
            {
                var head = model.PurchaseHead!;
                var logits = head.Forward(hidden);
                var dl = Matrix.Ensure(ref _dLogits, count, 1);
                value += NextItemLoss.PurchaseBinaryCrossEntropy(logits, _labels.AsSpan(0, count), _options.PurchaseWeight, dl);
                var dFromHead = head.Backward(dl);
                System.Numerics.Tensors.TensorPrimitives.Add(dh.Span, dFromHead.Span, dh.Span);
            }
            model.Backward(dh);
            _optimiser.Step();
            model.ZeroGrad();
            return value;
        }
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
