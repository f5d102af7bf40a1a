using System.Diagnostics;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Recsys.Domain.Simulation;
using Recsys.Silo;

namespace Recsys.Gateway.Hosting;

/// <summary>What to load before the silo reports ready; <see cref="GeneratedApiKey"/> is shown once on the console.</summary>
public sealed record StartupData(ShopOptions? DemoShop, int DemoEvents, string? GeneratedApiKey);

/// <summary>Loads the demo shop (when asked) through the same ingest path as the API, then marks the silo ready.</summary>
internal sealed class StartupDataLoader(
    StartupData data,
    IFrontend cluster,
    SiloReadiness readiness,
    IServiceProvider services,
    IHostApplicationLifetime lifetime,
    ILogger<StartupDataLoader> logger) : BackgroundService
{
    private const int BatchSize = 1000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Wait for Kestrel so the printed address is the bound one (port 0 becomes a real port).
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        {
            await started.Task.WaitAsync(stoppingToken);
        }
        var addresses = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        if (data.GeneratedApiKey is not null)
        {
            // Written to the console once, never to the log pipeline.
            Console.WriteLine($"API key for this demo (writes need it in the X-Api-Key header): {data.GeneratedApiKey}");
        }
        if (data.DemoShop is { } shopOptions)
        {
            readiness.NotReady("loading the demo shop");
            await LoadDemoAsync(shopOptions, stoppingToken);
        }
        readiness.Ready();
        // The catalogue is loaded now: say whether the start-up model fits it (a model of another shop ranks nothing here).
        foreach (var model in (await cluster.GetModelsAsync(stoppingToken)).Models)
        {
            if (model.Warning is { } warning)
            {
                logger.LogWarning("The start-up model does not fit the catalogue: {Warning}", warning);
            }
        }
        var example = data.DemoShop is null ? "{userId}" : SyntheticShop.UserId(7);
        logger.LogInformation("Ready: try GET {Address}/v1/users/{Example}/recommendations", addresses.FirstOrDefault() ?? "", example);
    }

    private async Task LoadDemoAsync(ShopOptions shopOptions, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var shop = new SyntheticShop(shopOptions);
        await cluster.UpsertItemsAsync(shop.Items, cancellationToken);
        logger.LogInformation("Demo shop: {Items} items in {Categories} categories, {Users} shoppers",
            shop.Items.Count, shopOptions.Categories, shopOptions.Users);
        var history = shop.History(data.DemoEvents, DateTimeOffset.UtcNow.AddMinutes(-1), TimeSpan.FromDays(7));
        var nextReport = history.Count / 4;
        var done = 0;
        foreach (var batch in history.Chunk(BatchSize))
        {
            await cluster.IngestAsync(batch, cancellationToken);
            done += batch.Length;
            if (done >= nextReport || done == history.Count)
            {
                logger.LogInformation("Demo history: {Done}/{Total} events replayed ({Percent:0}%)",
                    done, history.Count, 100.0 * done / history.Count);
                nextReport += history.Count / 4;
            }
        }
        logger.LogInformation("Demo shop loaded in {Seconds:0.0} s; shoppers are named {First} to {Last}",
            stopwatch.Elapsed.TotalSeconds, SyntheticShop.UserId(0), SyntheticShop.UserId(shopOptions.Users - 1));
    }
}
