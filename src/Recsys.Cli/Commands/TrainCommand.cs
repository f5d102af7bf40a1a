using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Recsys.Model;
using Recsys.Model.Numerics;
using Recsys.Model.Training;

namespace Recsys.Cli.Commands;

internal static class TrainCommand
{
    public static Command Create()
    {
        // Defaults come from the model library, so that the CLI and code that trains directly agree.
        var defaults = new TrainingOptions();
        var shape = new SequenceModelConfig { ItemCount = 2 };
        var data = new Option<FileInfo>("--data") { Description = "The interactions to learn from.", Required = true };
        var format = ModelOptions.Format();
        var output = new Option<FileInfo>("--out") { Description = "Where to write the checkpoint.", Required = true };
        var epochs = new Option<int>("--epochs") { Description = "At most this many epochs (early stopping usually ends sooner).", DefaultValueFactory = _ => defaults.Epochs };
        var batch = new Option<int>("--batch") { Description = "Users per training batch.", DefaultValueFactory = _ => defaults.BatchSize };
        var dim = new Option<int>("--dim") { Description = "Model width.", DefaultValueFactory = _ => shape.Dim };
        var blocks = new Option<int>("--blocks") { Description = "Transformer blocks.", DefaultValueFactory = _ => shape.Blocks };
        var heads = new Option<int>("--heads") { Description = "Attention heads.", DefaultValueFactory = _ => shape.Heads };
        var maxLength = new Option<int>("--max-length") { Description = "How many recent events the model reads.", DefaultValueFactory = _ => shape.MaxLength };
        var dropout = new Option<float>("--dropout") { Description = "Dropout rate.", DefaultValueFactory = _ => shape.Dropout };
        var learningRate = new Option<float>("--lr") { Description = "Adam learning rate.", DefaultValueFactory = _ => defaults.LearningRate };
        var weightDecay = new Option<float>("--weight-decay") { Description = "Decoupled weight decay.", DefaultValueFactory = _ => defaults.WeightDecay };
        var loss = new Option<LossKind>("--loss") { Description = "SampledSoftmax (default) or Bce (SASRec's, one negative).", DefaultValueFactory = _ => defaults.Loss };
        var negatives = new Option<int>("--negatives") { Description = "Negatives shared per batch for SampledSoftmax.", DefaultValueFactory = _ => defaults.Negatives };
        var patience = new Option<int>("--patience") { Description = "Stop after this many validations without improvement.", DefaultValueFactory = _ => defaults.Patience };
        var evaluateEvery = new Option<int>("--evaluate-every") { Description = "Validate every this many epochs.", DefaultValueFactory = _ => defaults.EvaluateEvery };
        var validation = new Option<EvaluationProtocol>("--validation") { Description = "Validation protocol: Full, Sampled or All (see eval --help).", DefaultValueFactory = _ => defaults.ValidationProtocol };
        var refit = new Option<bool>("--refit")
        {
            Description = "After early stopping, retrain for the chosen number of epochs with the validation targets too (test targets stay held out). On by default (--refit false skips it and halves the time).",
            DefaultValueFactory = _ => defaults.Refit,
        };
        var seed = new Option<int>("--seed") { Description = "Seed for initialisation, dropout and sampling.", DefaultValueFactory = _ => shape.Seed };
        var json = CommonOptions.Json();
        var command = new Command("train", "Train the sequence model on a data file and save a checkpoint; shows progress, per-epoch loss and validation, and stops early.")
        {
            data, format, output, epochs, batch, dim, blocks, heads, maxLength, dropout, learningRate, weightDecay, loss, negatives, patience, evaluateEvery, validation, refit, seed, json,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var log = parse.InvocationConfiguration.Error;
            var outputWriter = parse.InvocationConfiguration.Output;
            try
            {
                if (Gemm.FallbackReason is { } reason)
                {
                    log.WriteLine($"warning: {reason}");
                }
                var path = parse.GetValue(data)!;
                var interactions = DataImport.Read(path.FullName, parse.GetValue(format));
                log.WriteLine($"{path.Name}: {interactions.Users.Count:N0} users, {interactions.ItemCount - 1:N0} items, {interactions.EventCount:N0} events");
                var config = new SequenceModelConfig
                {
                    ItemCount = interactions.ItemCount,
                    MaxLength = parse.GetValue(maxLength),
                    Dim = parse.GetValue(dim),
                    Blocks = parse.GetValue(blocks),
                    Heads = parse.GetValue(heads),
                    Dropout = parse.GetValue(dropout),
                    BehaviourTypes = interactions.HasTypes ? 5 : 0,
                    GapBuckets = interactions.HasTimestamps ? 16 : 0,
                    PurchaseHead = interactions.HasTypes,
                    Seed = parse.GetValue(seed),
                };
                var options = new TrainingOptions
                {
                    Epochs = parse.GetValue(epochs),
                    BatchSize = parse.GetValue(batch),
                    LearningRate = parse.GetValue(learningRate),
                    WeightDecay = parse.GetValue(weightDecay),
                    Loss = parse.GetValue(loss),
                    Negatives = parse.GetValue(negatives),
                    Patience = parse.GetValue(patience),
                    EvaluateEvery = parse.GetValue(evaluateEvery),
                    ValidationProtocol = parse.GetValue(validation),
                    Refit = parse.GetValue(refit),
                };
                ConsoleProgress? progress = null;
                var result = Trainer.Train(interactions, config, options,
                    onEpoch: report =>
                    {
                        progress?.Complete();
                        progress = null;
                        var line = string.Create(CultureInfo.InvariantCulture,
                            $"{(report.Refit ? "refit epoch" : "epoch")} {report.Epoch}: loss {report.Loss:0.0000}, {report.Seconds:0.0} s ({report.Tokens / report.Seconds:N0} tokens/s)");
                        if (report.Validation is { } v)
                        {
                            line += string.Create(CultureInfo.InvariantCulture, $", validation ({v.Protocol}) HR@10 {v.HitRate:0.0000} NDCG@10 {v.Ndcg:0.0000}{(report.Improved ? " (best)" : "")}");
                        }
                        log.WriteLine(line);
                    },
                    onBatch: (done, total) => (progress ??= new ConsoleProgress(log, "  training", total, "batches")).Report(done),
                    cancellationToken);
                var metadata = new TrainingMetadata
                {
                    Version = $"{Path.GetFileNameWithoutExtension(parse.GetValue(output)!.Name)}-{DateTimeOffset.UtcNow:yyyyMMddHHmmss}",
                    TrainedAt = DateTimeOffset.UtcNow,
                    Data = path.Name,
                    Loss = options.Loss.ToString(),
                    Epochs = result.Epochs.Count(static e => !e.Refit),
                    BestEpoch = result.BestEpoch,
                    Refit = options.Refit,
                    TrainingSeconds = Math.Round(result.Seconds, 1),
                    ValidationNdcg = result.BestValidation?.Ndcg,
                    ValidationHitRate = result.BestValidation?.HitRate,
                    ValidationProtocol = result.BestValidation?.Protocol,
                };
                CheckpointFile.Save(parse.GetValue(output)!.FullName, new ModelCheckpoint(result.Model, interactions.ItemIds, metadata));
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Saved {parse.GetValue(output)!.Name}: best epoch {result.BestEpoch} of {metadata.Epochs}{(options.Refit ? $", refit for {result.BestEpoch} epochs" : "")}, {result.Seconds:0.0} s in all"));
                if (parse.GetValue(json))
                {
                    outputWriter.WriteLine(JsonSerializer.Serialize(metadata, ModelOptions.JsonOptions));
                }
                return Task.FromResult(0);
            }
            catch (Exception ex) when (ex is DataFormatException or FileNotFoundException or ArgumentException or IOException)
            {
                log.WriteLine($"train: {ex.Message}");
                return Task.FromResult(1);
            }
        });
        return command;
    }
}
