using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Recsys.Model;
using Recsys.Model.Training;

namespace Recsys.Cli.Commands;

public enum Baseline
{
    None,
    Popularity,
    CoOccurrence,
    Recency,
}

/// <summary>Options the model verbs share.</summary>
internal static class ModelOptions
{
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    public static Option<DataFormat> Format() => new("--format")
    {
        Description = "Sasrec ('user item' lines), Sequences ('user i1 i2 ...'), Taobao (UserBehavior CSV) or Jsonl (our event JSON, one per line).",
        DefaultValueFactory = _ => DataFormat.Sasrec,
    };
}

internal static class EvalCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo?>("--model") { Description = "The checkpoint to evaluate (not needed with --baseline)." };
        var data = new Option<FileInfo>("--data") { Description = "The interactions; the last event of each user is the test target.", Required = true };
        var format = ModelOptions.Format();
        var protocol = new Option<EvaluationProtocol>("--protocol") { Description = "Sampled (the target among 100 items the user never touched), Full (among all items, the user's earlier items excluded) or All (among all items, nothing excluded: for repeat visits).", DefaultValueFactory = _ => EvaluationProtocol.Full };
        var split = new Option<EvaluationSplit>("--split") { Description = "Test (last event) or Validation (the one before).", DefaultValueFactory = _ => EvaluationSplit.Test };
        var baseline = new Option<Baseline>("--baseline") { Description = "Score a baseline instead of a model: Popularity, CoOccurrence or Recency (the user's own latest items).", DefaultValueFactory = _ => Baseline.None };
        var seed = new Option<int>("--seed") { Description = "Seed of the sampled negatives.", DefaultValueFactory = _ => 2024 };
        var json = CommonOptions.Json();
        var command = new Command("eval", "Leave-one-out evaluation of a checkpoint or a baseline: HR@10, NDCG@10, MRR and catalogue coverage over every user.")
        {
            model, data, format, protocol, split, baseline, seed, json,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var log = parse.InvocationConfiguration.Error;
            try
            {
                var interactions = DataImport.Read(parse.GetValue(data)!.FullName, parse.GetValue(format));
                IRanker ranker;
                string modelVersion;
                PurchaseIntentResult? purchase = null;
                switch (parse.GetValue(baseline))
                {
                    case Baseline.Popularity:
                        ranker = new PopularityRanker(interactions);
                        modelVersion = "popularity";
                        break;
                    case Baseline.CoOccurrence:
                        ranker = new CoOccurrenceRanker(interactions);
                        modelVersion = "co-occurrence";
                        break;
                    case Baseline.Recency:
                        ranker = new RecencyRanker(interactions);
                        modelVersion = "recency";
                        break;
                    default:
                        var path = parse.GetValue(model) ?? throw new ArgumentException("pass --model FILE, or --baseline Popularity|CoOccurrence|Recency");
                        var checkpoint = CheckpointFile.Load(path.FullName);
                        interactions = interactions.Remap(checkpoint.ItemIds);
                        ranker = new ModelRanker(checkpoint.Model);
                        modelVersion = checkpoint.Metadata.Version;
                        if (checkpoint.Model.PurchaseHead is not null && interactions.HasTypes)
                        {
                            purchase = PurchaseEvaluator.Evaluate(checkpoint.Model, interactions);
                        }
                        break;
                }
                var progress = new ConsoleProgress(log, "Evaluating", interactions.Users.Count, "users");
                var result = Evaluator.Evaluate(ranker, interactions, parse.GetValue(protocol), parse.GetValue(split),
                    seed: parse.GetValue(seed), progress: new Progress<(int Done, int Total)>(p => progress.Report(p.Done)));
                progress.Report(result.Users, final: true);
                if (parse.GetValue(json))
                {
                    var output = new JsonObject
                    {
                        ["model"] = modelVersion,
                        ["users"] = result.Users,
                        ["protocol"] = result.Protocol,
                        ["split"] = result.Split,
                        ["hr@10"] = Math.Round(result.HitRate, 6),
                        ["ndcg@10"] = Math.Round(result.Ndcg, 6),
                        ["mrr"] = Math.Round(result.Mrr, 6),
                        ["coverage"] = Math.Round(result.Coverage, 6),
                    };
                    if (purchase is not null)
                    {
                        output["purchaseAuc"] = Math.Round(purchase.Auc, 6);
                        output["purchaseBaselineAuc"] = Math.Round(purchase.BaselineAuc, 6);
                        output["purchaseSamples"] = purchase.Samples;
                        output["purchasePositives"] = purchase.Positives;
                    }
                    parse.InvocationConfiguration.Output.WriteLine(output.ToJsonString());
                }
                else
                {
                    parse.InvocationConfiguration.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{modelVersion}, {result.Protocol} protocol, {result.Split}, {result.Users:N0} users: HR@10 {result.HitRate:0.0000}, NDCG@10 {result.Ndcg:0.0000}, MRR {result.Mrr:0.0000}, coverage {result.Coverage:P1}"));
                    if (purchase is not null)
                    {
                        parse.InvocationConfiguration.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"purchase intent: AUC {purchase.Auc:0.0000} (last-event-type baseline {purchase.BaselineAuc:0.0000}) over {purchase.Samples:N0} held-out targets, {purchase.Positives:N0} purchases"));
                    }
                }
                return Task.FromResult(0);
            }
            catch (Exception ex) when (ex is DataFormatException or FileNotFoundException or ArgumentException or InvalidDataException or IOException)
            {
                log.WriteLine($"eval: {ex.Message}");
                return Task.FromResult(1);
            }
        });
        return command;
    }
}
