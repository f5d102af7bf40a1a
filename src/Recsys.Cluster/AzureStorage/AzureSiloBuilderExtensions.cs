using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Streams;
using Recsys.Cluster.Streams;
using Recsys.Grains;

namespace Recsys.Cluster.AzureStorage;

/// <summary>Orleans' Azure Storage providers for deployments on Azure, selected by <see cref="ClusterModeOptions"/>.</summary>
public static class AzureSiloBuilderExtensions
{
    /// <summary>User state in an Azure table or blob container, through Orleans' Azure grain storage (ETags as versions).</summary>
    public static ISiloBuilder AddAzureUserStateStorage(this ISiloBuilder silo, ClusterModeOptions options)
    {
        var serializer = new UserRecordStorageSerializer();
        if (options.Storage == StorageKinds.AzureTable)
        {
            silo.AddAzureTableGrainStorage(UserGrain.StorageName, table =>
            {
                table.TableServiceClient = new TableServiceClient(options.AzureStorage);
                table.TableName = options.AzureStateName;
                table.GrainStorageSerializer = serializer;
            });
        }
        else
        {
            silo.AddAzureBlobGrainStorage(UserGrain.StorageName, blob =>
            {
                blob.BlobServiceClient = new BlobServiceClient(options.AzureStorage);
                blob.ContainerName = options.AzureStateName;
                blob.GrainStorageSerializer = serializer;
            });
        }
        return silo;
    }

    /// <summary>
    /// The event stream on Azure Queue storage through Orleans' provider (a message is deleted only after its delivery
    /// completed), balanced over the worker silos like the RabbitMQ stream.
    /// </summary>
    public static ISiloBuilder AddAzureQueueEventStream(this ISiloBuilder silo, ClusterModeOptions options)
    {
        silo.Services.AddSingleton<AzureQueueBroker>();
        silo.Services.AddSingleton<IEventStreamBroker>(static sp => sp.GetRequiredService<AzureQueueBroker>());
        var queues = options.AzureQueueNames().ToList();
        silo.AddAzureQueueStreams(EventStreams.ProviderName, stream =>
        {
            stream.ConfigureAzureQueue(azure => azure.Configure(o =>
            {
                o.QueueServiceClient = new QueueServiceClient(options.AzureStorage);
                o.QueueNames = queues;
                o.MessageVisibilityTimeout = options.AzureQueueVisibilityTimeout;
            }));
            stream.ConfigureCacheSize(Math.Max(10, (int)options.Prefetch));
            stream.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly);
            stream.ConfigurePartitionBalancing(static (sp, _) => ActivatorUtilities.CreateInstance<WorkerQueueBalancer>(sp));
            // Each look at a queue is a request to the storage service (billed on Azure): Orleans' default period.
            stream.ConfigurePullingAgent(agent => agent.Configure(o => o.MaxEventDeliveryTime = options.MaxDeliveryTime));
        });
        return silo;
    }
}
