using System.CommandLine;
using System.Numerics.Tensors;
using System.Text.Json.Nodes;
using Recsys.Model;
using Recsys.Model.Numerics;
using Recsys.Model.Training;

namespace Recsys.Cli.Commands;

internal static class RecommendCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model") { Description = "The checkpoint.", Required = true };
        var data = new Option<FileInfo>("--data") { Description = "The users' histories.", Required = true };
        var format = ModelOptions.Format();
        var users = new Option<int>("--users") { Description = "How many users (from the top of the file).", DefaultValueFactory = _ => 20 };
        var k = new Option<int>("--k") { Description = "Items per user.", DefaultValueFactory = _ => 10 };
        var command = new Command("recommend",
            "Print each user's top-k items from a checkpoint over their whole history (items already seen excluded), one JSON object per line: " +
            "the offline answer that served recommendations and reference implementations are compared with.")
        {
            model, data, format, users, k,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            try
            {
                var checkpoint = CheckpointFile.Load(parse.GetValue(model)!.FullName);
                var interactions = DataImport.Read(parse.GetValue(data)!.FullName, parse.GetValue(format)).Remap(checkpoint.ItemIds);
                var count = parse.GetValue(k);
                var selected = interactions.Users.Take(parse.GetValue(users)).ToList();
                var scores = new Matrix(selected.Count, interactions.ItemCount);
                new ModelRanker(checkpoint.Model).Score(selected, selected.Select(static u => u.Items.Length).ToList(), scores);
                for (var u = 0; u < selected.Count; u++)
                {
                    var row = scores.Row(u);
                    row[0] = float.NegativeInfinity;
                    foreach (var seen in selected[u].Items)
                    {
                        row[seen] = float.NegativeInfinity;
                    }
                    var items = new JsonArray();
                    for (var i = 0; i < count; i++)
                    {
                        var best = TensorPrimitives.IndexOfMax(row);
                        items.Add(new JsonObject { ["itemId"] = checkpoint.ItemIds[best], ["score"] = row[best] });
                        row[best] = float.NegativeInfinity;
                    }
                    parse.InvocationConfiguration.Output.WriteLine(new JsonObject { ["userId"] = selected[u].UserId, ["items"] = items }.ToJsonString());
                }
                return Task.FromResult(0);
            }
            catch (Exception ex) when (ex is DataFormatException or FileNotFoundException or InvalidDataException or IOException)
            {
                parse.InvocationConfiguration.Error.WriteLine($"recommend: {ex.Message}");
                return Task.FromResult(1);
            }
        });
        return command;
    }
}
