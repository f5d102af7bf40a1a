using Recsys.Model.Training;

namespace Recsys.Model.UnitTests;

public class TrainingTests
{
    /// <summary>
    /// Users walk a hidden cycle through the catalogue (item i is followed by i+1, mostly): a sequence model
    /// should learn the next step, which popularity cannot.
    /// </summary>
    private static InteractionData CyclicShop(int users = 300, int items = 60, int seed = 1)
    {
        var random = new Random(seed);
        var text = new System.Text.StringBuilder();
        for (var u = 0; u < users; u++)
        {
            var item = random.Next(items);
            var length = random.Next(6, 14);
            for (var i = 0; i < length; i++)
            {
                text.Append(u).Append(' ').Append(item).Append('\n');
                item = random.NextDouble() < 0.9 ? (item + 1) % items : random.Next(items);
            }
        }
        return DataImport.Read(new StringReader(text.ToString()), "cyclic", DataFormat.Sasrec);
    }

    [Theory]
    [InlineData(LossKind.SampledSoftmax, 20)]
    [InlineData(LossKind.SampledSoftmax, 1000)] // more negatives than items: the full softmax
    [InlineData(LossKind.Bce, 1)]
    public void A_tiny_model_learns_sequential_structure_and_beats_popularity_by_a_clear_margin(LossKind loss, int negatives)
    {
        var data = CyclicShop();
        var config = new SequenceModelConfig { ItemCount = data.ItemCount, MaxLength = 10, Dim = 16, Blocks = 1, Heads = 1, Dropout = 0.1f, Seed = 5 };
        var result = Trainer.Train(data, config, new TrainingOptions
        {
            Epochs = 40, BatchSize = 32, LearningRate = 5e-3f, Loss = loss, Negatives = negatives, EvaluateEvery = 5, Patience = 3,
        });
        var model = Evaluator.Evaluate(new ModelRanker(result.Model), data, EvaluationProtocol.Full, EvaluationSplit.Test);
        var popularity = Evaluator.Evaluate(new PopularityRanker(data), data, EvaluationProtocol.Full, EvaluationSplit.Test);
        Assert.True(model.HitRate > popularity.HitRate + 0.4, $"model HR@10 {model.HitRate:0.000} vs popularity {popularity.HitRate:0.000}");
        Assert.True(result.Epochs[^1].Loss < result.Epochs[0].Loss, "the training loss did not fall");
    }

    [Fact]
    public void Training_is_deterministic_for_a_seed()
    {
        var data = CyclicShop(users: 60);
        var config = new SequenceModelConfig { ItemCount = data.ItemCount, MaxLength = 8, Dim = 8, Blocks = 1, Dropout = 0.2f, Seed = 9 };
        var options = new TrainingOptions { Epochs = 2, BatchSize = 16, EvaluateEvery = 2 };
        var a = Trainer.Train(data, config, options);
        var b = Trainer.Train(data, config, options);
        Assert.Equal(a.Epochs.Select(e => e.Loss), b.Epochs.Select(e => e.Loss));
        Assert.Equal(a.Model.ItemEmbeddings.Value.Data, b.Model.ItemEmbeddings.Value.Data);
    }

    [Fact]
    public void Refit_retrains_for_the_best_epoch_count_on_the_validation_targets_too()
    {
        var data = CyclicShop(users: 80);
        var config = new SequenceModelConfig { ItemCount = data.ItemCount, MaxLength = 20, Dim = 8, Blocks = 1, Dropout = 0.2f, Seed = 3 };
        var result = Trainer.Train(data, config, new TrainingOptions { Epochs = 4, BatchSize = 16, EvaluateEvery = 2, Refit = true });
        var selection = result.Epochs.Where(e => !e.Refit).ToList();
        var refit = result.Epochs.Where(e => e.Refit).ToList();
        Assert.Equal(result.BestEpoch, refit.Count);
        Assert.Equal(Enumerable.Range(1, refit.Count), refit.Select(e => e.Epoch));
        // Sequences fit the window, so the refit has exactly one more target per evaluated user: its validation target.
        var usersWithTargets = data.Users.Count(LeaveOneOut.HasTargets);
        Assert.All(refit, e => Assert.Equal(selection[0].Tokens + usersWithTargets, e.Tokens));
    }

    [Fact]
    public void Leave_one_out_uses_the_last_event_for_test_and_the_one_before_for_validation()
    {
        var data = DataImport.Read(new StringReader("u a\nu b\nu c\nu d\nv x\nv y\n"), "t", DataFormat.Sasrec);
        var u = data.Users[0];
        Assert.Equal(2, LeaveOneOut.TrainLength(u));
        Assert.True(LeaveOneOut.HasTargets(u));
        var v = data.Users[1];
        Assert.Equal(2, LeaveOneOut.TrainLength(v)); // fewer than 3 events: all for training
        Assert.False(LeaveOneOut.HasTargets(v));
        // The popularity baseline counts only training events: d (test) and c (validation) of u are unseen.
        var scores = new Numerics.Matrix(1, data.ItemCount);
        new PopularityRanker(data).Score([u], [3], scores);
        var index = (string id) => data.ItemIds.ToList().IndexOf(id);
        Assert.Equal(1f, scores.Data[index("a")]);
        Assert.Equal(0f, scores.Data[index("c")]);
        Assert.Equal(0f, scores.Data[index("d")]);
    }

    [Fact]
    public void Evaluation_ranks_exactly_as_defined()
    {
        // A ranker that puts the target at a known rank: HR, NDCG and MRR follow from the definitions.
        // One user to evaluate (5 events) and another whose 20 items the first never saw.
        var lines = Enumerable.Range(1, 5).Select(i => $"u i{i}").Concat(Enumerable.Range(1, 20).Select(i => $"v j{i}").Take(2)).ToList();
        lines.AddRange(Enumerable.Range(3, 18).Select(i => $"w j{i}").Take(2));
        lines.AddRange(Enumerable.Range(5, 20).Select(i => $"x{i} k{i}"));
        var data = DataImport.Read(new StringReader(string.Join('\n', lines) + "\n"), "t", DataFormat.Sasrec);
        var ranker = new FixedRanker(data, targetRank: 3);
        var result = Evaluator.Evaluate(ranker, data, EvaluationProtocol.Full, EvaluationSplit.Test);
        Assert.Equal(1, result.Users);
        Assert.Equal(1.0, result.HitRate);
        Assert.Equal(1 / Math.Log2(5), result.Ndcg, 6);
        Assert.Equal(0.25, result.Mrr, 6);
        var far = Evaluator.Evaluate(new FixedRanker(data, targetRank: 10), data, EvaluationProtocol.Full, EvaluationSplit.Test);
        Assert.Equal(0.0, far.HitRate);
        Assert.Equal(0.0, far.Ndcg);
    }

    [Fact]
    public void A_repeated_target_is_a_miss_in_full_ranking_and_ranked_among_everything_in_all()
    {
        // u comes back to a1 at the end. Excluding all of u's earlier items but the target would leak which
        // one comes next, so the full protocol excludes a1 too; the all protocol ranks it among every item.
        var lines = new List<string> { "u a1", "u a2", "u a3", "u a4", "u a1" };
        lines.AddRange(Enumerable.Range(1, 30).Select(i => $"x{i} b{i}"));
        var data = DataImport.Read(new StringReader(string.Join('\n', lines) + "\n"), "t", DataFormat.Sasrec);
        var recency = new RecencyRanker(data);
        var full = Evaluator.Evaluate(recency, data, EvaluationProtocol.Full, EvaluationSplit.Test);
        Assert.Equal(1, full.Users);
        Assert.Equal(0.0, full.HitRate);
        var all = Evaluator.Evaluate(recency, data, EvaluationProtocol.All, EvaluationSplit.Test);
        // Recency ranks u's items latest first: a4, a3, a2, a1, so the target a1 comes fourth.
        Assert.Equal(1.0, all.HitRate);
        Assert.Equal(0.25, all.Mrr, 6);
    }

    /// <summary>Scores items so that exactly <c>targetRank</c> unseen items beat the test target.</summary>
    private sealed class FixedRanker(InteractionData data, int targetRank) : IRanker
    {
        public string Name => "fixed";

        public void Score(IReadOnlyList<UserSequence> users, IReadOnlyList<int> ends, Numerics.Matrix scores)
        {
            var user = users[0];
            var target = user.Items[ends[0]];
            var row = scores.Row(0);
            row.Clear();
            row[target] = 10;
            var history = user.Items.AsSpan(0, ends[0]).ToArray();
            var placed = 0;
            for (var item = 1; item < data.ItemCount && placed < targetRank; item++)
            {
                if (item != target && !history.Contains(item))
                {
                    row[item] = 20;
                    placed++;
                }
            }
            foreach (var seen in history)
            {
                row[seen] = 100; // seen items are excluded by the full protocol, whatever their score
            }
        }
    }
}

public class PurchaseIntentTests
{
    [Fact]
    public void Auc_follows_its_definition_with_ties_counted_half()
    {
        Assert.Equal(1.0, PurchaseEvaluator.Auc([(0.9f, true), (0.1f, false), (0.2f, false)]));
        Assert.Equal(0.0, PurchaseEvaluator.Auc([(0.1f, true), (0.9f, false)]));
        Assert.Equal(0.5, PurchaseEvaluator.Auc([(0.5f, true), (0.5f, false)]));
        // 2 positives × 2 negatives = 4 pairs; positive 0.8 beats both, 0.3 beats one (0.2) and loses to 0.6: 3/4.
        Assert.Equal(0.75, PurchaseEvaluator.Auc([(0.8f, true), (0.3f, true), (0.6f, false), (0.2f, false)]));
        Assert.True(double.IsNaN(PurchaseEvaluator.Auc([(0.5f, false)])));
    }

    [Fact]
    public void The_purchase_head_learns_that_a_cart_leads_to_a_purchase()
    {
        // Shoppers view items; some cart one and then buy it. The head should rank "after a cart" high.
        var random = new Random(4);
        var csv = new System.Text.StringBuilder("user_id,item_id,category_id,behavior_type,timestamp\n");
        for (var u = 0; u < 400; u++)
        {
            var time = 1_500_000_000L;
            var length = random.Next(5, 12);
            for (var i = 0; i < length; i++)
            {
                var item = random.Next(40);
                csv.Append($"{u},{item},1,pv,{time += 60}\n");
                if (random.NextDouble() < 0.3)
                {
                    csv.Append($"{u},{item},1,cart,{time += 60}\n");
                    csv.Append($"{u},{item},1,buy,{time += 60}\n");
                }
            }
        }
        var data = DataImport.Read(new StringReader(csv.ToString()), "shop", DataFormat.Taobao);
        var config = new SequenceModelConfig
        {
            ItemCount = data.ItemCount, MaxLength = 20, Dim = 16, Blocks = 1, Dropout = 0.1f,
            BehaviourTypes = 5, GapBuckets = 8, PurchaseHead = true, Seed = 2,
        };
        var result = Trainer.Train(data, config, new TrainingOptions { Epochs = 15, BatchSize = 32, LearningRate = 5e-3f, Negatives = 20, EvaluateEvery = 5, PurchaseWeight = 1f });
        var purchase = PurchaseEvaluator.Evaluate(result.Model, data);
        Assert.True(purchase.Positives > 20, $"only {purchase.Positives} purchases among the held-out targets");
        Assert.True(purchase.Auc > 0.9, $"purchase AUC {purchase.Auc:0.000}");
    }
}
