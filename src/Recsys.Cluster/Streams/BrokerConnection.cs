using RabbitMQ.Client;

namespace Recsys.Cluster.Streams;

/// <summary>One broker connection shared by a silo's publishers or receivers, opened again when it was lost.</summary>
public sealed class BrokerConnection(RabbitMqConnector connector, string purpose) : IAsyncDisposable
{
    private readonly SemaphoreSlim _opening = new(1, 1);
    private IConnection? _connection;

    public bool IsOpen => _connection?.IsOpen == true;

    public async Task<IConnection> GetAsync(CancellationToken cancellationToken)
    {
        if (_connection is { IsOpen: true } open)
        {
            return open;
        }
        await _opening.WaitAsync(cancellationToken);
        try
        {
            if (_connection is { IsOpen: true } reopened)
            {
                return reopened;
            }
            if (_connection is { } lost)
            {
                await lost.DisposeAsync();
            }
            _connection = await connector.ConnectAsync(purpose, cancellationToken);
            return _connection;
        }
        finally
        {
            _opening.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is { } connection)
        {
            await connection.DisposeAsync();
        }
        _opening.Dispose();
    }
}
