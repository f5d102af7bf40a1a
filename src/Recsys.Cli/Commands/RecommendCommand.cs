using System.CommandLine;
using System.Text.Json.Nodes;
using Recsys.Model;
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
                var top = new ModelRanker(checkpoint.Model).TopUnseen(selected, count);
                for (var u = 0; u < selected.Count; u++)
                {
                    var items = new JsonArray();
                    foreach (var (item, score) in top[u])
                    {
                        items.Add(new JsonObject { ["itemId"] = checkpoint.ItemIds[item], ["score"] = score });
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
