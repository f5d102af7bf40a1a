using System.Text;
using Recsys.Model;
using Recsys.Model.Training;

namespace Recsys.Tests.Shared;

/// <summary>
/// A tiny model trained on sequences where item-(i+1) mostly follows item-i, so tests know what it must recommend.
/// Linked into the test projects that serve a model (one definition, deterministic for a given size).
/// </summary>
internal static class CyclicModel
{
    public static ModelCheckpoint Train(int items, int users, string version)
    {
        var random = new Random(4);
        var text = new StringBuilder();
        for (var u = 0; u < users; u++)
        {
            var item = random.Next(items);
            for (var i = 0; i < random.Next(6, 12); i++)
            {
                text.Append('u').Append(u).Append(" item-").Append(item).Append('\n');
                item = random.NextDouble() < 0.9 ? (item + 1) % items : random.Next(items);
            }
        }
        var data = DataImport.Read(new StringReader(text.ToString()), "cyclic", DataFormat.Sasrec);
        var config = new SequenceModelConfig { ItemCount = data.ItemCount, MaxLength = 10, Dim = 16, Blocks = 1, Dropout = 0.1f, Seed = 5 };
        var result = Trainer.Train(data, config, new TrainingOptions { Epochs = 30, BatchSize = 32, LearningRate = 5e-3f, Negatives = 1000, EvaluateEvery = 5 });
        return new ModelCheckpoint(result.Model, data.ItemIds, new TrainingMetadata { Version = version });
    }
}
