namespace Recsys.Cluster;

/// <summary>The values of <see cref="ClusterModeOptions.Streams"/>.</summary>
public static class StreamKinds
{
    public const string RabbitMq = "rabbitmq";
    public const string AzureQueue = "azure-queue";
}
