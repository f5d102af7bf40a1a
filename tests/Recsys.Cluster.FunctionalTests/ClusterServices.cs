using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Npgsql;

namespace Recsys.Cluster.FunctionalTests;

/// <summary>
/// The PostgreSQL, RabbitMQ and Azurite that scripts/services.sh started (scripts/test.sh does it). These tests need them and
/// fail, never skip, when they are missing.
/// </summary>
public static class ClusterServices
{
    public static string Postgres => Required("RECSYS_TEST_POSTGRES");

    public static string RabbitMq => Required("RECSYS_TEST_RABBITMQ");

    /// <summary>Azurite's connection string (every endpoint named, since its ports are not the defaults).</summary>
    public static string AzureStorage => Required("RECSYS_TEST_AZURE_STORAGE");

    /// <summary>scripts/services.sh, to stop and start PostgreSQL in the outage test.</summary>
    public static string Script => Required("RECSYS_TEST_SERVICES_SCRIPT");

    private static string Required(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
        ? value
        : throw new InvalidOperationException(
            $"{name} is not set: cluster tests need PostgreSQL, RabbitMQ and Azurite. Run ./scripts/test.sh, or eval \"$(scripts/services.sh up)\" before dotnet test.");

    /// <summary>A fresh database for one test, dropped when disposed, so tests never see each other's users.</summary>
    public static async Task<TestDatabase> CreateDatabaseAsync()
    {
        var name = "recsys_test_" + Guid.NewGuid().ToString("N")[..12];
        await using (var admin = new NpgsqlConnection(Postgres))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync();
        }
        return new TestDatabase(name, new NpgsqlConnectionStringBuilder(Postgres) { Database = name }.ConnectionString);
    }

    public static async Task RunScriptAsync(string verb)
    {
        using var process = Process.Start(new ProcessStartInfo(Script, verb) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"services.sh {verb} failed: {error}");
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

public sealed record TestDatabase(string Name, string ConnectionString) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(ClusterServices.Postgres);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }
}

/// <summary>One `recsys serve --role ...` process of the CLI, as production runs it; its output is kept for failure messages.</summary>
public sealed partial class SiloProcess : IAsyncDisposable
{
    public const string ApiKey = "cluster-test-key-8c1f7a2b93";

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private SiloProcess(string name, Process process, Uri address)
    {
        Name = name;
        _process = process;
        Address = address;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        Client.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
        process.OutputDataReceived += (_, line) => Append(line.Data);
        process.ErrorDataReceived += (_, line) => Append(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Name { get; }

    private string LogName { get; init; } = "";

    public Uri Address { get; }

    public HttpClient Client { get; }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static SiloProcess Start(string role, string name, TestDatabase database, string stream, params string[] settings)
    {
        var port = ClusterServices.FreePort();
        var cli = Path.Combine(AppContext.BaseDirectory, "recsys.dll");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] args =
        [
            cli, "serve", "--role", role, "--postgres", database.ConnectionString, "--rabbitmq", ClusterServices.RabbitMq,
            "--urls", $"http://127.0.0.1:{port}", "--api-key", ApiKey, "--silo-name", name,
            "--set", "Recsys:Cluster:StreamName=" + stream,
            "--set", "Recsys:Cluster:ClusterId=" + stream,
            "--set", "Recsys:Cluster:SiloPort=" + ClusterServices.FreePort(),
            "--set", "Recsys:Cluster:CatalogueRefreshInterval=00:00:00.500",
            "--set", "Recsys:Silo:TrendingRefreshInterval=00:00:00",
        ];
        foreach (var arg in args.Concat(settings.SelectMany(static s => new[] { "--set", s })))
        {
            info.ArgumentList.Add(arg);
        }
        return new SiloProcess(name, Process.Start(info)!, new Uri($"http://127.0.0.1:{port}")) { LogName = $"{stream}-{name}" };
    }

    public async Task WaitUntilReadyAsync(TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            Assert.False(_process.HasExited, $"{Name} exited with {(_process.HasExited ? _process.ExitCode : 0)} before it was ready:\n{Output}");
            try
            {
                using var response = await Client.GetAsync("/readyz");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            Assert.True(DateTime.UtcNow < deadline, $"{Name} did not become ready:\n{Output}");
            await Task.Delay(100);
        }
    }

    /// <summary>SIGKILL: the process dies mid-work, as in a crash or an evicted pod.</summary>
    public void Kill() => _process.Kill();

    /// <summary>SIGTERM: what Kubernetes sends before a pod goes away.</summary>
    public void Terminate() => Assert.Equal(0, SendSignal(_process.Id, 15));

    public Task<bool> WaitForExitAsync(TimeSpan within) => _process.WaitForExitAsync(new CancellationTokenSource(within).Token)
        .ContinueWith(static t => t.IsCompletedSuccessfully, TaskScheduler.Default);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        // Kept for whoever investigates a failure: every silo's log, by test stream and silo name.
        var logs = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "recsys-cluster-tests")).FullName;
        await File.WriteAllTextAsync(Path.Combine(logs, $"{LogName}.log"), Output);
        Client.Dispose();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
