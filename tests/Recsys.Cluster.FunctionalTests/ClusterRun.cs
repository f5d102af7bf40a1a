namespace Recsys.Cluster.FunctionalTests;

/// <summary>
/// One test's cluster: its own database and stream name, and the silo processes it started, all removed at the end.
/// </summary>
public sealed class ClusterRun : IAsyncDisposable
{
    private readonly List<SiloProcess> _silos = [];

    private ClusterRun(TestDatabase database) => Database = database;

    public TestDatabase Database { get; }

    public string Stream { get; } = "recsys.test." + Guid.NewGuid().ToString("N")[..8];

    public static async Task<ClusterRun> CreateAsync() => new(await ClusterServices.CreateDatabaseAsync());

    /// <summary>Starts a silo and returns at once (it may still be starting, or fail to).</summary>
    public SiloProcess Launch(string role, string name, params string[] settings)
    {
        var silo = SiloProcess.Start(role, name, Database, Stream, settings);
        _silos.Add(silo);
        return silo;
    }

    /// <summary>Starts a silo and waits until it reports ready.</summary>
    public async Task<SiloProcess> StartAsync(string role, string name, params string[] settings)
    {
        var silo = Launch(role, name, settings);
        await silo.WaitUntilReadyAsync();
        return silo;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var silo in _silos)
        {
            await silo.DisposeAsync();
        }
        await Database.DisposeAsync();
    }
}
