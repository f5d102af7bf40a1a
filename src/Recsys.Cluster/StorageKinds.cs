namespace Recsys.Cluster;

/// <summary>The values of <see cref="ClusterModeOptions.Storage"/>.</summary>
public static class StorageKinds
{
    public const string Postgres = "postgres";
    public const string AzureTable = "azure-table";
    public const string AzureBlob = "azure-blob";
}
