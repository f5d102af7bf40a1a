using System.Numerics.Tensors;
using Recsys.Model.Layers;
using Recsys.Model.Numerics;

namespace Recsys.Model.Training;

public enum EvaluationProtocol
{
    /// <summary>The target ranked among 100 items drawn uniformly from those the user never touched (SASRec paper).</summary>
    Sampled,
    /// <summary>
    /// The target ranked among all items, the user's earlier items excluded (what a shop shows as "new for you");
    /// a target the user already had is therefore a miss, never helped by the exclusion.
    /// </summary>
    Full,
    /// <summary>The target ranked among all items, nothing excluded: for shops where people come back to items they saw.</summary>
    All,
}

public enum EvaluationSplit
{
    Validation,
    Test,
}

public sealed record EvaluationResult(string Protocol, string Split, int Users, double HitRate, double Ndcg, double Mrr, double Coverage, int K);

/// <summary>Scores every item for a batch of users, given the history each may use (events [0, end)).</summary>
public interface IRanker
{
    string Name { get; }

    /// <summary>Fills <paramref name="scores"/> (users × items) for <paramref name="users"/>; history of user i is Items[0, ends[i]).</summary>
    void Score(IReadOnlyList<UserSequence> users, IReadOnlyList<int> ends, Matrix scores);
}

/// <summary>Leave-one-out evaluation, the same code for the model and the baselines.</summary>
public static class Evaluator
{
    private const int SampledNegatives = 100;
    private const int BatchSize = 256;

    public static EvaluationResult Evaluate(IRanker ranker, InteractionData data, EvaluationProtocol protocol, EvaluationSplit split,
        int k = 10, int seed = 2024, int maxUsers = 0, IProgress<(int Done, int Total)>? progress = null)
    {
        var users = data.Users.Where(LeaveOneOut.HasTargets).ToList();
        if (maxUsers > 0 && users.Count > maxUsers)
        {
            var pick = new Random(seed);
            users = users.OrderBy(_ => pick.Next()).Take(maxUsers).ToList();
        }
        var random = new Random(seed);
        var scores = new Matrix(BatchSize, data.ItemCount);
        double hits = 0, ndcg = 0, mrr = 0;
        var recommended = new bool[data.ItemCount];
        var topK = new int[k];
        var seen = new HashSet<int>();
        var negatives = new int[SampledNegatives];
        var evaluated = 0;
        foreach (var batch in users.Chunk(BatchSize))
        {
            var ends = batch.Select(u => u.Items.Length - (split == EvaluationSplit.Test ? 1 : 2)).ToList();
            scores.Resize(batch.Length);
            ranker.Score(batch, ends, scores);
            for (var b = 0; b < batch.Length; b++)
            {
                var user = batch[b];
                var target = user.Items[ends[b]];
                var row = scores.Row(b);
                row[0] = float.NegativeInfinity; // the unknown item is never a recommendation
                int rank;
                if (protocol == EvaluationProtocol.Sampled)
                {
                    seen.Clear();
                    foreach (var item in user.Items)
                    {
                        seen.Add(item);
                    }
                    for (var j = 0; j < SampledNegatives; j++)
                    {
                        int candidate;
                        do
                        {
                            candidate = 1 + random.Next(data.ItemCount - 1);
                        }
                        while (seen.Contains(candidate));
                        negatives[j] = candidate;
                    }
                    var targetScore = row[target];
                    rank = 0;
                    foreach (var negative in negatives)
                    {
                        rank += row[negative] > targetScore ? 1 : 0;
                    }
                    MarkTopK(row, negatives, target, k, recommended);
                }
                else
                {
                    if (protocol == EvaluationProtocol.Full)
                    {
                        // Excluding every earlier item, the target too when it repeats: excluding all but the
                        // target would tell the ranker which of the user's items comes next.
                        for (var i = 0; i < ends[b]; i++)
                        {
                            row[user.Items[i]] = float.NegativeInfinity;
                        }
                    }
                    var targetScore = row[target];
                    if (float.IsNegativeInfinity(targetScore))
                    {
                        rank = row.Length; // excluded: a miss
                    }
                    else
                    {
                        rank = 0;
                        foreach (var score in row)
                        {
                            rank += score > targetScore ? 1 : 0;
                        }
                    }
                    MarkTopKFull(row, topK, recommended);
                }
                if (rank < k)
                {
                    hits++;
                    ndcg += 1 / Math.Log2(rank + 2);
                }
                mrr += 1.0 / (rank + 1);
            }
            evaluated += batch.Length;
            progress?.Report((evaluated, users.Count));
        }
        var n = Math.Max(1, users.Count);
        var coverage = recommended.Count(static r => r) / (double)Math.Max(1, data.ItemCount - 1);
        return new EvaluationResult(protocol.ToString().ToLowerInvariant(), split.ToString().ToLowerInvariant(), users.Count,
            hits / n, ndcg / n, mrr / n, coverage, k);
    }

    private static void MarkTopK(ReadOnlySpan<float> row, int[] negatives, int target, int k, bool[] recommended)
    {
        Span<int> candidates = stackalloc int[negatives.Length + 1];
        negatives.CopyTo(candidates);
        candidates[^1] = target;
        Span<float> keys = stackalloc float[candidates.Length];
        for (var i = 0; i < candidates.Length; i++)
        {
            keys[i] = -row[candidates[i]];
        }
        keys.Sort(candidates);
        foreach (var item in candidates[..Math.Min(k, candidates.Length)])
        {
            recommended[item] = true;
        }
    }

    private static void MarkTopKFull(ReadOnlySpan<float> row, int[] topK, bool[] recommended)
    {
        // Partial selection: keep the k best seen so far.
        var count = 0;
        Span<float> best = stackalloc float[topK.Length];
        for (var item = 1; item < row.Length; item++)
        {
            var score = row[item];
            if (float.IsNegativeInfinity(score))
            {
                continue;
            }
            if (count < topK.Length)
            {
                topK[count] = item;
                best[count++] = score;
                continue;
            }
            var worst = TensorPrimitives.IndexOfMin(best);
            if (score > best[worst])
            {
                best[worst] = score;
                topK[worst] = item;
            }
        }
        for (var i = 0; i < count; i++)
        {
            recommended[topK[i]] = true;
        }
    }
}

/// <summary>The model as a ranker: the last token's hidden state scored against every item vector.</summary>
public sealed class ModelRanker(SequenceEncoder encoder) : IRanker
{
    private readonly TokenBatch _batch = new(256 * 50);
    private readonly byte[] _types = new byte[encoder.Config.MaxLength];
    private readonly byte[] _gaps = new byte[encoder.Config.MaxLength];
    private Matrix? _last;

    public string Name => "model";

    public void Score(IReadOnlyList<UserSequence> users, IReadOnlyList<int> ends, Matrix scores)
    {
        var config = encoder.Config;
        _batch.Clear();
        for (var i = 0; i < users.Count; i++)
        {
            SequenceInputs.Append(_batch, users[i], ends[i], config, _types, _gaps);
        }
        var hidden = encoder.Forward(_batch, training: false);
        var last = Matrix.Ensure(ref _last, users.Count, config.Dim);
        for (var i = 0; i < users.Count; i++)
        {
            hidden.Row(_batch.Offsets[i + 1] - 1).CopyTo(last.Row(i));
        }
        var items = encoder.ItemEmbeddings.Value;
        encoder.Gemm.Multiply(false, true, users.Count, items.Rows, config.Dim, 1f, last.Span, config.Dim, items.Span, config.Dim, 0f, scores.Span, items.Rows);
    }

    /// <summary>
    /// Each user's best <paramref name="k"/> items over their whole history, the items they already have excluded:
    /// the offline answer that served recommendations are compared with. Ties go to the lower item index.
    /// </summary>
    public (int Item, float Score)[][] TopUnseen(IReadOnlyList<UserSequence> users, int k)
    {
        var scores = new Matrix(users.Count, encoder.ItemEmbeddings.Value.Rows);
        Score(users, users.Select(static u => u.Items.Length).ToList(), scores);
        var result = new (int Item, float Score)[users.Count][];
        for (var u = 0; u < users.Count; u++)
        {
            var row = scores.Row(u);
            row[0] = float.NegativeInfinity;
            foreach (var seen in users[u].Items)
            {
                row[seen] = float.NegativeInfinity;
            }
            var best = new (int Item, float Score)[Math.Min(k, row.Length - 1)];
            for (var i = 0; i < best.Length; i++)
            {
                var item = TensorPrimitives.IndexOfMax(row);
                best[i] = (item, row[item]);
                row[item] = float.NegativeInfinity;
            }
            result[u] = best;
        }
        return result;
    }
}

/// <summary>Most popular items in the training part, the same for everyone.</summary>
public sealed class PopularityRanker : IRanker
{
    private readonly float[] _counts;

    public PopularityRanker(InteractionData data)
    {
        _counts = new float[data.ItemCount];
        foreach (var user in data.Users)
        {
            for (var i = 0; i < LeaveOneOut.TrainLength(user); i++)
            {
                _counts[user.Items[i]]++;
            }
        }
    }

    public string Name => "popularity";

    public void Score(IReadOnlyList<UserSequence> users, IReadOnlyList<int> ends, Matrix scores)
    {
        for (var i = 0; i < users.Count; i++)
        {
            _counts.CopyTo(scores.Row(i));
        }
    }
}

/// <summary>The user's own most recent distinct items, latest first ("recently viewed"), then popularity.</summary>
public sealed class RecencyRanker(InteractionData data) : IRanker
{
    private readonly PopularityRanker _popularity = new(data);

    public string Name => "recency";

    public void Score(IReadOnlyList<UserSequence> users, IReadOnlyList<int> ends, Matrix scores)
    {
        _popularity.Score(users, ends, scores);
        for (var u = 0; u < users.Count; u++)
        {
            var row = scores.Row(u);
            var max = TensorPrimitives.Max(row);
            // Later events overwrite earlier ones, so an item's score reflects its latest occurrence.
            for (var h = 0; h < ends[u]; h++)
            {
                row[users[u].Items[h]] = max + 1 + h;
            }
        }
    }
}

/// <summary>
/// Item co-occurrence in training sequences (pairs within a few steps), normalised as co(i,j)/√(n_i·n_j), scored
/// from the user's recent items with recency weights; popularity breaks ties for items with no co-occurrence.
/// </summary>
public sealed class CoOccurrenceRanker : IRanker
{
    private const int Window = 3;
    private const int Recent = 5;
    private readonly Dictionary<int, float>[] _pairs;
    private readonly float[] _counts;

    public CoOccurrenceRanker(InteractionData data)
    {
        _pairs = new Dictionary<int, float>[data.ItemCount];
        _counts = new float[data.ItemCount];
        foreach (var user in data.Users)
        {
            var length = LeaveOneOut.TrainLength(user);
            for (var i = 0; i < length; i++)
            {
                _counts[user.Items[i]]++;
                for (var j = Math.Max(0, i - Window); j < i; j++)
                {
                    Add(user.Items[i], user.Items[j]);
                    Add(user.Items[j], user.Items[i]);
                }
            }
        }
    }

    public string Name => "co-occurrence";

    public void Score(IReadOnlyList<UserSequence> users, IReadOnlyList<int> ends, Matrix scores)
    {
        var maxCount = _counts.Max();
        for (var u = 0; u < users.Count; u++)
        {
            var row = scores.Row(u);
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = 1e-3f * _counts[i] / maxCount; // popularity as a tie-breaker
            }
            var weight = 1f;
            for (var h = ends[u] - 1; h >= 0 && h >= ends[u] - Recent; h--)
            {
                var source = users[u].Items[h];
                if (_pairs[source] is { } neighbours)
                {
                    foreach (var (item, count) in neighbours)
                    {
                        row[item] += weight * count / MathF.Sqrt(_counts[source] * _counts[item]);
                    }
                }
                weight *= 0.7f;
            }
        }
    }

    private void Add(int a, int b)
    {
        if (a == b)
        {
            return;
        }
        var map = _pairs[a] ??= [];
        map[b] = map.GetValueOrDefault(b) + 1;
    }
}
