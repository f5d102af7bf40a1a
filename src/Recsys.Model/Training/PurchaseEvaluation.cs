using Recsys.Model.Layers;

namespace Recsys.Model.Training;

public sealed record PurchaseIntentResult(int Samples, int Positives, double Auc, double BaselineAuc);

/// <summary>
/// How well the purchase-intent head tells whether a user's next event is a purchase, on the held-out
/// validation and test targets (never trained on). The baseline knows only the type of the user's last event
/// (after a cart, purchases are likely), with rates from the training part.
/// </summary>
public static class PurchaseEvaluator
{
    public static PurchaseIntentResult Evaluate(SequenceEncoder model, InteractionData data)
    {
        var head = model.PurchaseHead ?? throw new ArgumentException("this model has no purchase-intent head (train it on data with behaviour types)");
        if (!data.HasTypes)
        {
            throw new ArgumentException("purchase intent needs data with behaviour types (e.g. --format Taobao)");
        }
        var rates = LastTypeRates(data);
        var samples = new List<(float Model, float Baseline, bool Label)>();
        var batch = new TokenBatch(256 * model.Config.MaxLength);
        var types = new byte[model.Config.MaxLength];
        var gaps = new byte[model.Config.MaxLength];
        var pending = new List<(UserSequence User, int End)>();

        void Flush()
        {
            if (pending.Count == 0)
            {
                return;
            }
            var logits = head.Forward(model.Forward(batch, training: false));
            for (var i = 0; i < pending.Count; i++)
            {
                var (user, end) = pending[i];
                var logit = logits.Data[batch.Offsets[i + 1] - 1];
                samples.Add((logit, rates[user.Types[end - 1]], user.Purchases[end]));
            }
            pending.Clear();
            batch.Clear();
        }

        foreach (var user in data.Users.Where(LeaveOneOut.HasTargets))
        {
            foreach (var end in new[] { user.Items.Length - 2, user.Items.Length - 1 })
            {
                SequenceInputs.Append(batch, user, end, model.Config, types, gaps);
                pending.Add((user, end));
                if (pending.Count == 256)
                {
                    Flush();
                }
            }
        }
        Flush();
        return new PurchaseIntentResult(samples.Count, samples.Count(static s => s.Label),
            Auc(samples.Select(static s => (s.Model, s.Label)).ToList()), Auc(samples.Select(static s => (s.Baseline, s.Label)).ToList()));
    }

    /// <summary>Area under the ROC curve (Mann-Whitney U, ties counted half); NaN when one class is missing.</summary>
    public static double Auc(IReadOnlyList<(float Score, bool Label)> samples)
    {
        var positives = samples.Count(static s => s.Label);
        var negatives = samples.Count - positives;
        if (positives == 0 || negatives == 0)
        {
            return double.NaN;
        }
        var ordered = samples.OrderBy(static s => s.Score).ToList();
        double rankSum = 0;
        for (var i = 0; i < ordered.Count;)
        {
            var j = i;
            while (j < ordered.Count && ordered[j].Score == ordered[i].Score)
            {
                j++;
            }
            var averageRank = (i + 1 + j) / 2.0; // ranks i+1 .. j share their mean
            for (var k = i; k < j; k++)
            {
                if (ordered[k].Label)
                {
                    rankSum += averageRank;
                }
            }
            i = j;
        }
        return (rankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }

    private static float[] LastTypeRates(InteractionData data)
    {
        var counts = new double[256];
        var purchases = new double[256];
        foreach (var user in data.Users)
        {
            var length = LeaveOneOut.TrainLength(user);
            for (var i = 1; i < length; i++)
            {
                counts[user.Types[i - 1]]++;
                purchases[user.Types[i - 1]] += user.Purchases[i] ? 1 : 0;
            }
        }
        return counts.Select((c, t) => c > 0 ? (float)(purchases[t] / c) : 0f).ToArray();
    }
}
