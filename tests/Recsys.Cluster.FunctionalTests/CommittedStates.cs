using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Logging.Abstractions;
using Recsys.Silo.State;

namespace Recsys.Cluster.FunctionalTests;

/// <summary>Every user record a storage backend holds, as the bytes of the state codec, read the way an operator could.</summary>
public interface ICommittedStates
{
    IAsyncEnumerable<byte[]> ReadAllAsync();
}

public sealed class PostgresCommittedStates(TestDatabase database) : ICommittedStates
{
    public async IAsyncEnumerable<byte[]> ReadAllAsync()
    {
        await using var store = new PostgresStateStore(database.ConnectionString, NullLogger.Instance);
        await foreach (var (_, data) in store.ReadAllAsync(CancellationToken.None))
        {
            yield return data;
        }
    }
}

/// <summary>Orleans' Azure Table grain storage splits a record over binary properties Data, Data1, Data2, ...</summary>
public sealed class AzureTableCommittedStates(string connectionString, string table) : ICommittedStates
{
    public async IAsyncEnumerable<byte[]> ReadAllAsync()
    {
        var client = new TableClient(connectionString, table);
        await foreach (var entity in client.QueryAsync<TableEntity>())
        {
            using var data = new MemoryStream();
            for (var i = 0; entity.GetBinary(i == 0 ? "Data" : $"Data{i}") is { } chunk; i++)
            {
                data.Write(chunk);
            }
            yield return data.ToArray();
        }
    }
}

public sealed class AzureBlobCommittedStates(string connectionString, string container) : ICommittedStates
{
    public async IAsyncEnumerable<byte[]> ReadAllAsync()
    {
        var client = new BlobContainerClient(connectionString, container);
        await foreach (var blob in client.GetBlobsAsync())
        {
            var content = await client.GetBlobClient(blob.Name).DownloadContentAsync();
            yield return content.Value.Content.ToArray();
        }
    }
}
