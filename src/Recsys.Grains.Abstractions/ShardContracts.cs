using Recsys.Domain.Recommendation;

namespace Recsys.Grains;

/// <summary>
/// A top-K query to one shard: the vector, the model whose item vectors to score, the filter (its seen-items rule is
/// carried by <see cref="ExcludedRows"/>: the model rows to leave out, sorted ascending).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ShardTopKRequest(
    [property: Id(0)] string ModelVersion,
    [property: Id(1)] float[] Vector,
    [property: Id(2)] int Count,
    [property: Id(3)] RecommendationFilter Filter,
    [property: Id(4)] int[] ExcludedRows);

/// <summary>A shard's best items as model rows with their raw scores, best first.</summary>
[GenerateSerializer, Immutable]
public sealed record ShardTopK([property: Id(0)] int[] Rows, [property: Id(1)] float[] Scores);
