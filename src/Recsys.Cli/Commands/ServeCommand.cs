using System.CommandLine;
using Microsoft.Extensions.Hosting;
using Recsys.Domain.Simulation;
using Recsys.Gateway.Hosting;

namespace Recsys.Cli.Commands;

internal static class ServeCommand
{
    public static Command Create()
    {
        var urls = new Option<string>("--urls")
        {
            Description = "Where to listen; several addresses separated by ';'.",
            DefaultValueFactory = _ => "http://localhost:8080",
        };
        var demo = new Option<bool>("--demo")
        {
            Description = "Load a generated shop (catalogue and a week of shopping history) so recommendations show at once.",
        };
        var apiKey = CommonOptions.ApiKey();
        var demoUsers = new Option<int>("--demo-users") { Description = "Shoppers in the demo shop.", DefaultValueFactory = _ => 1000 };
        var demoEvents = new Option<int>("--demo-events") { Description = "Events of demo history to replay at start.", DefaultValueFactory = _ => 60_000 };
        var seed = new Option<int>("--seed") { Description = "Seed of the demo shop (the same seed, the same shop).", DefaultValueFactory = _ => 42 };
        var model = new Option<FileInfo?>("--model")
        {
            Description = "A checkpoint from 'train' to serve neural recommendations with (users without history, and any request " +
                          "while no model is loaded, get the fallback). Same as --set Recsys:Silo:Model:Path=FILE.",
        };
        var settings = new Option<string[]>("--set")
        {
            Description = "Override a configuration value, e.g. --set Recsys:Silo:Users:WindowCapacity=50 (repeatable). " +
                          "Environment variables work too: Recsys__Silo__Users__WindowCapacity=50.",
            AllowMultipleArgumentsPerToken = false,
        };
        var role = new Option<string?>("--role")
        {
            Description = "Cluster mode: this silo's roles, comma-separated: 'gateway' (HTTP API, publishes events to the stream), " +
                          "'worker' (user and catalogue shard grains, pulls its share of the event queues), 'inference' (inference " +
                          "grains; without an inference silo the workers encode), or 'all'. Needs --postgres and --rabbitmq " +
                          "(or --azure-storage with --set Recsys:Cluster:Streams=azure-queue). " +
                          "Without it, serve runs the embedded default.",
        };
        var postgres = new Option<string?>("--postgres")
        {
            Description = "Cluster mode: Npgsql connection string of the state database, e.g. 'Host=127.0.0.1;Username=recsys;Password=...'. " +
                          "Default: the RECSYS_POSTGRES environment variable.",
        };
        var rabbitmq = new Option<string?>("--rabbitmq")
        {
            Description = "Cluster mode: AMQP URI of the broker, e.g. amqp://user:password@127.0.0.1:5672/. Default: RECSYS_RABBITMQ.",
        };
        var azureStorage = new Option<string?>("--azure-storage")
        {
            Description = "Cluster mode on Azure: Azure Storage connection string for user state (--set Recsys:Cluster:Storage=azure-table " +
                          "or azure-blob) and the event stream (--set Recsys:Cluster:Streams=azure-queue). Default: RECSYS_AZURE_STORAGE.",
        };
        var siloName = new Option<string?>("--silo-name") { Description = "Cluster mode: this silo's name in membership, logs and the broker (default: host-pid)." };
        var command = new Command("serve",
            "Run the embedded default (one Orleans silo with every role, state in memory), or with --role a silo of a cluster " +
            "over PostgreSQL (membership, user state) and RabbitMQ (the event stream), or Azure Storage for state and stream.")
        {
            urls, demo, apiKey, model, demoUsers, demoEvents, seed, settings, role, postgres, rabbitmq, azureStorage, siloName,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var users = parse.GetValue(demoUsers);
            var events = parse.GetValue(demoEvents);
            if (users < 1 || events < 0)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync("--demo-users must be at least 1 and --demo-events at least 0");
                return 2;
            }
            var overrides = new List<string>();
            foreach (var setting in parse.GetValue(settings) ?? [])
            {
                if (!setting.Contains('=', StringComparison.Ordinal))
                {
                    await parse.InvocationConfiguration.Error.WriteLineAsync($"--set takes key=value; '{setting}' has no '='");
                    return 2;
                }
                overrides.Add("--" + setting);
            }
            if (parse.GetValue(model) is { } checkpoint)
            {
                if (!checkpoint.Exists)
                {
                    await parse.InvocationConfiguration.Error.WriteLineAsync($"serve: --model {checkpoint.FullName}: no such file");
                    return 2;
                }
                overrides.Add("--Recsys:Silo:Model:Path=" + checkpoint.FullName);
            }
            var postgresConnection = parse.GetValue(postgres) ?? Environment.GetEnvironmentVariable("RECSYS_POSTGRES");
            var rabbitUri = parse.GetValue(rabbitmq) ?? Environment.GetEnvironmentVariable("RECSYS_RABBITMQ");
            var azure = parse.GetValue(azureStorage) ?? Environment.GetEnvironmentVariable("RECSYS_AZURE_STORAGE");
            var clusterRole = parse.GetValue(role);
            if (clusterRole is not null)
            {
                overrides.Add("--Recsys:Cluster:Roles=" + clusterRole);
                if (postgresConnection is not null)
                {
                    overrides.Add("--Recsys:Cluster:Postgres=" + postgresConnection);
                }
                if (rabbitUri is not null)
                {
                    overrides.Add("--Recsys:Cluster:RabbitMq=" + rabbitUri);
                }
                if (azure is not null)
                {
                    overrides.Add("--Recsys:Cluster:AzureStorage=" + azure);
                }
                if (parse.GetValue(siloName) is { } name)
                {
                    overrides.Add("--Recsys:Cluster:SiloName=" + name);
                }
            }
            var serve = new ServeSettings
            {
                ClusterMode = clusterRole is not null,
                Urls = parse.GetValue(urls)!,
                ApiKey = parse.GetValue(apiKey),
                Demo = parse.GetValue(demo),
                DemoShop = new ShopOptions { Users = users, Seed = parse.GetValue(seed) },
                DemoEvents = events,
                ConfigurationArgs = overrides,
            };
            try
            {
                await using var app = EmbeddedServer.Build(serve);
                await app.StartAsync(cancellationToken);
                await app.WaitForShutdownAsync(cancellationToken);
                return 0;
            }
            catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or IOException or InvalidDataException)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"serve: {ex.Message}");
                return 1;
            }
        });
        return command;
    }
}
