using System.CommandLine;
using Recsys.Cli.Import;
using Recsys.Contracts;
using Recsys.Domain.Catalogue;
using Recsys.Domain.Events;

namespace Recsys.Cli.Commands;

internal static class ImportCommand
{
    private const int MaxErrorsShown = 50;

    public static Command Create()
    {
        var url = CommonOptions.ServerUrl();
        var apiKey = CommonOptions.ApiKey();
        var kind = new Argument<ImportKind>("kind") { Description = "What the file holds: items (catalogue) or events." };
        var file = new Argument<FileInfo>("file") { Description = "The CSV (with a header row) or JSONL file." };
        var format = new Option<InputFormat?>("--format") { Description = "csv or jsonl (default: from the file extension)." };
        var batch = new Option<int>("--batch") { Description = "Records per request.", DefaultValueFactory = _ => 500 };
        var dryRun = new Option<bool>("--dry-run") { Description = "Only validate the file; send nothing." };
        var skipInvalid = new Option<bool>("--skip-invalid") { Description = "Send the valid records even when some are invalid (default: send nothing then)." };
        var command = new Command("import",
            "Validate a catalogue or event file line by line, then send it to a running server in batches. " +
            $"Item columns: {string.Join(",", InputFile.ItemColumns)}. Event columns: {string.Join(",", InputFile.EventColumns)} (JSONL: the same names).")
        {
            kind, file, url, apiKey, format, batch, dryRun, skipInvalid,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var path = parse.GetValue(file)!;
            if (!path.Exists)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"import: {path.FullName} does not exist");
                return 2;
            }
            var inputFormat = parse.GetValue(format) ?? InputFile.FormatFromExtension(path.Name);
            if (inputFormat is null)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"import: cannot tell the format of '{path.Name}' from its extension; pass --format csv or --format jsonl");
                return 2;
            }
            var batchSize = parse.GetValue(batch);
            if (batchSize is < 1 or > 1000)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync("import: --batch must be from 1 to 1000");
                return 2;
            }

            // Validate everything first, so that a bad file sends nothing unless asked to.
            var errors = new List<FieldError>();
            List<BehaviourEvent> events = [];
            List<CatalogueItem> items = [];
            using (var reader = InputFile.Open(path.FullName))
            {
                if (parse.GetValue(kind) == ImportKind.Events)
                {
                    events = [.. InputFile.ReadEvents(reader, inputFormat.Value, new EventValidator(), errors)];
                }
                else
                {
                    items = [.. InputFile.ReadItems(reader, inputFormat.Value, new CatalogueItemValidator(), errors)];
                }
            }
            var valid = events.Count + items.Count;
            foreach (var error in errors.Take(MaxErrorsShown))
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"{error.Field}: {error.Message}");
            }
            if (errors.Count > MaxErrorsShown)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"... and {errors.Count - MaxErrorsShown} more errors");
            }
            parse.InvocationConfiguration.Output.WriteLine($"{path.Name}: {valid:N0} valid records, {errors.Count:N0} errors");
            if (parse.GetValue(dryRun) || valid == 0 || (errors.Count > 0 && !parse.GetValue(skipInvalid)))
            {
                if (errors.Count > 0 && !parse.GetValue(dryRun) && valid > 0)
                {
                    parse.InvocationConfiguration.Output.WriteLine("Nothing sent: fix the errors, or pass --skip-invalid to send the valid records.");
                }
                return errors.Count > 0 ? 1 : 0;
            }

            try
            {
                using var client = new RecsysApiClient(parse.GetValue(url)!, CommonOptions.ResolveApiKey(parse.GetValue(apiKey)));
                var progress = new ConsoleProgress(parse.InvocationConfiguration.Error, "Importing", valid, "records");
                long sent = 0, applied = 0, duplicates = 0;
                foreach (var chunk in events.Chunk(batchSize))
                {
                    var response = await client.PostEventsAsync(
                        [.. chunk.Select(static e => new EventRequest(e.EventId, e.UserId, e.ItemId, e.Type.ToWireName(), e.Timestamp, e.Query, e.RecommendationId))], cancellationToken);
                    applied += response.Accepted;
                    duplicates += response.Duplicates;
                    progress.Report(sent += chunk.Length);
                }
                foreach (var chunk in items.Chunk(batchSize))
                {
                    var response = await client.PostItemsAsync(
                        [.. chunk.Select(static i => new ItemRequest(i.ItemId, i.Title, i.Category, i.Price, i.InStock))], cancellationToken);
                    applied += response.Upserted;
                    progress.Report(sent += chunk.Length);
                }
                progress.Report(sent, final: true);
                parse.InvocationConfiguration.Output.WriteLine(events.Count > 0
                    ? $"Imported {sent:N0} events: {applied:N0} applied, {duplicates:N0} already known"
                    : $"Imported {sent:N0} items");
                return errors.Count > 0 ? 1 : 0;
            }
            catch (Exception ex) when (ex is ApiException or HttpRequestException or ArgumentException)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"import: {ex.Message}");
                return 1;
            }
        });
        return command;
    }
}
