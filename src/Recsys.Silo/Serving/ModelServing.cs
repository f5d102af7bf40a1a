using System.Numerics.Tensors;
using Recsys.Contracts;
using Recsys.Domain;
using Recsys.Domain.Catalogue;
using Recsys.Domain.Recommendation;
using Recsys.Domain.Users;
using Recsys.Model;
using Recsys.Model.Numerics;
using Recsys.Model.Serving;

namespace Recsys.Silo.Serving;

/// <summary>How the silo serves the neural model; bound from "Recsys:Silo:Model".</summary>
public sealed record ModelServingOptions
{
    /// <summary>A checkpoint to load at start (from <c>train</c>); none means fallback recommendations only.</summary>
    public string? Path { get; init; }

    /// <summary>
    /// The folder admin loads read checkpoints from (created when missing): names resolve inside it, after links are
    /// followed, so a key holder cannot read or probe other files of the host.
    /// </summary>
    public string Directory { get; init; } = "models";

    /// <summary>Below this share of the catalogue's items known to a model, loads and the model list warn.</summary>
    public double LowCatalogueCoverage { get; init; } = 0.5;

    /// <summary>The largest checkpoint an admin load reads: a few times the largest model here (55k items, about 15 MB).</summary>
    public long MaxCheckpointBytes { get; init; } = 64L << 20;

    /// <summary>How long a recommendation waits for a pending re-encode before it uses the previous intent.</summary>
    public TimeSpan IntentBudget { get; init; } = TimeSpan.FromMilliseconds(25);

    /// <summary>
    /// Micro-batching of encodes: a batch per forward pass, one inference worker per core (each with its own
    /// activation buffers over shared weights): with one, bursts of events queued behind each other's batches.
    /// </summary>
    public MicroBatcherOptions Inference { get; init; } = new()
    {
        MaxBatchSize = 128,
        MaxDelay = TimeSpan.FromMilliseconds(1),
        Workers = Environment.ProcessorCount,
    };

    public CatalogueShardOptions Catalogue { get; init; } = new();

    /// <summary>How many of the user's latest events are candidates for "because you ..." reasons.</summary>
    public int ReasonWindow { get; init; } = 20;

    /// <summary>
    /// Threads OpenBLAS may use inside one matrix product. The silo already runs shards, inference workers and
    /// requests side by side, and OpenBLAS threads that spin between products took half the CPU under load
    /// (bench/README.md), so 1.
    /// </summary>
    public int MatrixThreads { get; init; } = 1;
}

public enum ModelRole
{
    Primary,
    Candidate,
}

/// <summary>How many of the catalogue's items a model has vectors for, and a warning when that share is low.</summary>
public sealed record CatalogueFit(int Known, int Catalogue, double Coverage, string? Warning);

/// <summary>A load that would make two loaded models share a version (intents and feedback are keyed by version).</summary>
public sealed class ModelConflictException(string message) : InvalidOperationException(message);

/// <summary>The models a silo serves: the primary, and optionally a candidate that gets a stable share of users.</summary>
public sealed record ModelAssignment(ServingModel Primary, ServingModel? Candidate, double CandidateShare)
{
    /// <summary>A user's A/B bucket in [0, 1): a stable hash of the id, the same in every process and release.</summary>
    public static double Bucket(string userId) => Identifier.StableHash64(userId) % 10_000 / 10_000.0;

    public ServingModel For(string userId) =>
        Candidate is not null && Bucket(userId) < CandidateShare ? Candidate : Primary;
}

/// <summary>
/// The neural path of a silo: model registry (load, hot swap, A/B), inference workers and catalogue shards.
/// A swap builds the new model's shard slices first and then switches atomically, so no request sees a
/// half-loaded model; intents made by the old model are recomputed lazily, when a user next asks.
/// </summary>
public sealed class ModelServing : IAsyncDisposable
{
    private readonly ItemCatalogue _catalogue;
    private readonly Lazy<ModelFolder> _folder;
    private readonly Lock _swapGate = new();
    private readonly SemaphoreSlim _loadGate = new(1, 1);
    private volatile ModelAssignment? _assignment;
    private ServingModel[] _retired = [];

    public ModelServing(ItemCatalogue catalogue, ModelServingOptions options, Func<IEncoderBackend>? backendFactory = null)
    {
        _catalogue = catalogue;
        Options = options;
        _folder = new(() => new ModelFolder(options.Directory, options.MaxCheckpointBytes));
        (Gemm.Default as OpenBlasGemm)?.UseThreads(options.MatrixThreads);
        Encoder = new IntentEncoder(catalogue.Items, backendFactory ?? (() => new CpuEncoderBackend()), options.Inference);
        Shards = new ShardedCatalogue(catalogue, options.Catalogue);
    }

    public ModelServingOptions Options { get; }
    public IntentEncoder Encoder { get; }
    public ShardedCatalogue Shards { get; }
    public ModelAssignment? Assignment => _assignment;

    /// <summary>A model this silo has loaded (serving, or retired by the last switch), by version; null when none.</summary>
    public ServingModel? Find(string version)
    {
        if (_assignment is { } current)
        {
            if (current.Primary.Version == version)
            {
                return current.Primary;
            }
            if (current.Candidate?.Version == version)
            {
                return current.Candidate;
            }
        }
        return Array.Find(Volatile.Read(ref _retired), model => model.Version == version);
    }

    /// <summary>The model that serves <paramref name="userId"/>, or null when none is loaded.</summary>
    public ServingModel? ModelFor(string userId) => _assignment?.For(userId);

    /// <summary>Makes <paramref name="model"/> the primary (keeping the candidate, if any).</summary>
    public void Activate(ServingModel model) => Assign(model, _assignment?.Candidate, _assignment?.CandidateShare ?? 0);

    /// <summary>Gives <paramref name="candidate"/> a share of users (null or share 0 ends the test).</summary>
    public void SetCandidate(ServingModel? candidate, double share)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(share, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(share, 1);
        var primary = _assignment?.Primary ?? throw new InvalidOperationException("load a primary model before an A/B candidate");
        Assign(primary, share > 0 ? candidate : null, share);
    }

    /// <summary>
    /// Loads a checkpoint off the request threads and makes it the primary or an A/B candidate for
    /// <paramref name="share"/> of users. One load at a time; the switch is atomic once its shard slices exist.
    /// </summary>
    /// <exception cref="ArgumentException">The share is not in (0, 1).</exception>
    /// <exception cref="ModelFileException">The name is not a readable checkpoint file inside the model folder.</exception>
    /// <exception cref="InvalidDataException">Not a valid checkpoint.</exception>
    /// <exception cref="ModelConflictException">A loaded model has the same version, or a candidate without a primary.</exception>
    public async Task<ServingModel> LoadAsync(string path, ModelRole role, double share, CancellationToken cancellationToken)
    {
        if (role == ModelRole.Candidate && share is not (> 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(share), share, "a candidate's share of users must be above 0 and below 1");
        }
        // Read before taking the gate: a slow file delays its own load only.
        var bytes = await _folder.Value.ReadAsync(path, cancellationToken);
        await _loadGate.WaitAsync(cancellationToken);
        try
        {
            var model = await Task.Run(() => new ServingModel(CheckpointFile.Read(bytes)), cancellationToken);
            var current = _assignment;
            if (current?.Primary.Version == model.Version || current?.Candidate?.Version == model.Version)
            {
                throw new ModelConflictException($"version {model.Version} is already loaded; train or save the new model under a new version");
            }
            if (role == ModelRole.Candidate && current is null)
            {
                throw new ModelConflictException("load a primary model before an A/B candidate");
            }
            await Task.Run(() =>
            {
                if (role == ModelRole.Primary)
                {
                    Activate(model);
                }
                else
                {
                    SetCandidate(model, share);
                }
            }, CancellationToken.None); // once loaded, finish the switch even if the caller went away
            return model;
        }
        finally
        {
            _loadGate.Release();
        }
    }

    /// <summary>Ends the A/B test: the candidate either becomes the primary or is dropped. False when there is none.</summary>
    public bool EndCandidate(bool promote)
    {
        lock (_swapGate)
        {
            if (_assignment is not { Candidate: { } candidate } current)
            {
                return false;
            }
            Assign(promote ? candidate : current.Primary, null, 0);
            return true;
        }
    }

    /// <summary>The loaded models with their roles and shares.</summary>
    public IReadOnlyList<LoadedModel> Describe()
    {
        if (_assignment is not { } current)
        {
            return [];
        }
        var models = new List<LoadedModel> { Describe(current.Primary, ModelRole.Primary, 1 - (current.Candidate is null ? 0 : current.CandidateShare)) };
        if (current.Candidate is { } candidate)
        {
            models.Add(Describe(candidate, ModelRole.Candidate, current.CandidateShare));
        }
        return models;
    }

    private LoadedModel Describe(ServingModel model, ModelRole role, double share)
    {
        var fit = FitOf(model);
        return new(model.Version, role.ToString().ToLowerInvariant(), Math.Round(share, 4), model.ItemIds.Count - 1, model.Dim,
            model.Config.MaxLength, model.LoadedAt, fit.Known, Math.Round(fit.Coverage, 4), fit.Warning);
    }

    /// <summary>
    /// How much of the catalogue <paramref name="model"/> knows: it ranks only items it has vectors for (the rest of a list
    /// comes from the fallback), so a model trained on another shop serves that shop's items or none.
    /// </summary>
    public CatalogueFit FitOf(ServingModel model)
    {
        var catalogue = 0;
        var known = 0;
        foreach (var entry in _catalogue.Entries())
        {
            catalogue++;
            known += model.IndexOf(entry.Item.ItemId) > 0 ? 1 : 0;
        }
        var coverage = catalogue == 0 ? 0 : (double)known / catalogue;
        var warning = catalogue > 0 && coverage < Options.LowCatalogueCoverage
            ? $"model {model.Version} knows {known:N0} of the catalogue's {catalogue:N0} items ({coverage:P1}): it ranks only those, and the "
              + "fallback fills the rest of every list; train it on this shop's events"
            : null;
        return new CatalogueFit(known, catalogue, coverage, warning);
    }

    private void Assign(ServingModel primary, ServingModel? candidate, double share)
    {
        lock (_swapGate)
        {
            var old = _assignment;
            foreach (var model in new[] { primary, candidate })
            {
                if (model is not null && Shards.Shards[0].ItemCount(model) == 0 && model.ItemIds.Count > 1)
                {
                    Shards.Load(model, _catalogue.Items);
                }
            }
            _assignment = new ModelAssignment(primary, candidate, share);
            // Requests that picked a model just before the switch may still query its slices: keep the models this
            // switch retired until the next switch, and drop those an earlier switch retired.
            bool Serving(ServingModel model) => model == primary || model == candidate;
            foreach (var model in _retired)
            {
                if (!Serving(model))
                {
                    Shards.Unload(model);
                }
            }
            _retired = old is null ? [] : [.. new[] { old.Primary, old.Candidate }.OfType<ServingModel>().Where(m => !Serving(m))];
        }
    }

    /// <summary>
    /// Neural recommendations for a user with history: the intent (fresh, or after waiting the budget for a
    /// pending encode), then exact top-K over the shards with the filter inside. Null when there is no model
    /// or no intent yet, and the caller falls back.
    /// </summary>
    public Task<(ServingModel Model, IntentEmbedding Intent, ScoredItem[] Items)?> RecommendAsync(
        UserSnapshot user, IntentSlot slot, int count, RecommendationFilter filter, CancellationToken cancellationToken) =>
        RecommendAsync(user, slot, count, filter, Encoder, Shards, cancellationToken);

    /// <summary>As above, with the encodes and the shard fan-out going where <paramref name="encoder"/> and <paramref name="search"/> say.</summary>
    public async Task<(ServingModel Model, IntentEmbedding Intent, ScoredItem[] Items)?> RecommendAsync(UserSnapshot user, IntentSlot slot,
        int count, RecommendationFilter filter, IIntentEncoder encoder, ICatalogueSearch search, CancellationToken cancellationToken)
    {
        if (user.IsCold || ModelFor(user.UserId) is not { } model)
        {
            return null;
        }
        IntentEmbedding? intent;
        using (var span = SiloTelemetry.Source.StartActivity("intent"))
        {
            intent = await slot.GetAsync(user, model, encoder, Options.IntentBudget, cancellationToken);
            span?.SetTag("recsys.intent.found", intent is not null);
        }
        if (intent is null)
        {
            return null;
        }
        var hits = await search.TopKAsync(new CatalogueQuery(model, intent.Vector, count, filter, user), cancellationToken);
        return (model, intent, ToScored(model, hits, user, new RecommendationReason(ReasonKind.Trending)));
    }

    /// <summary>Items whose model vectors are closest to the item's own (null when no model knows the item).</summary>
    public Task<(ServingModel Model, ScoredItem[] Items)?> SimilarAsync(int itemIndex, int count, RecommendationFilter filter,
        CancellationToken cancellationToken) => SimilarAsync(itemIndex, count, filter, Shards, cancellationToken);

    public async Task<(ServingModel Model, ScoredItem[] Items)?> SimilarAsync(int itemIndex, int count, RecommendationFilter filter,
        ICatalogueSearch search, CancellationToken cancellationToken)
    {
        if (_assignment?.Primary is not { } model)
        {
            return null;
        }
        var modelIndex = model.IndexOf(_catalogue.Items.GetId(itemIndex));
        if (modelIndex == 0)
        {
            return null;
        }
        var vector = model.ItemVectors.Row(modelIndex).ToArray();
        var hits = await search.TopKAsync(new CatalogueQuery(model, vector, count, filter, UserSnapshot.Empty, ExcludeItem: itemIndex),
            cancellationToken);
        return (model, ToScored(model, hits, user: null, new RecommendationReason(ReasonKind.SimilarTo, itemIndex)));
    }

    public async ValueTask DisposeAsync()
    {
        await Encoder.DisposeAsync();
        await Shards.DisposeAsync();
        _loadGate.Dispose();
    }

    /// <summary>
    /// Scores as relative strengths (exp of the logit gap to the best: the best is 1) and reasons: for a user, the
    /// recent event whose item vector is closest to the recommended item's; otherwise <paramref name="reason"/>.
    /// </summary>
    private ScoredItem[] ToScored(ServingModel model, ShardHit[] hits, UserSnapshot? user, RecommendationReason reason)
    {
        // The reason candidates' model rows, looked up once per request rather than once per recommended item.
        var sources = new List<(int Row, BehaviourRecord Event)>(user is null ? 0 : Math.Min(user.Recent.Count, Options.ReasonWindow));
        if (user is not null)
        {
            var recent = user.Recent;
            for (var i = recent.Count - 1; i >= 0 && i >= recent.Count - Options.ReasonWindow; i--)
            {
                if (Shards.RowOf(model, recent[i].ItemIndex) is var row and > 0)
                {
                    sources.Add((row, recent[i]));
                }
            }
        }
        var result = new List<ScoredItem>(hits.Length);
        var best = hits.Length > 0 ? hits[0].Score : 0f;
        foreach (var hit in hits)
        {
            if (_catalogue.Get(hit.ItemIndex) is not { } entry)
            {
                continue;
            }
            var itemReason = reason;
            var target = model.ItemVectors.Row(Shards.RowOf(model, hit.ItemIndex));
            var bestSimilarity = float.NegativeInfinity;
            foreach (var (row, source) in sources)
            {
                var similarity = TensorPrimitives.Dot(target, model.ItemVectors.Row(row));
                if (similarity > bestSimilarity)
                {
                    bestSimilarity = similarity;
                    itemReason = new RecommendationReason(ReasonKind.BecauseYou, source.ItemIndex, source.Type);
                }
            }
            result.Add(new ScoredItem(entry, MathF.Exp(hit.Score - best), itemReason));
        }
        return [.. result];
    }
}
