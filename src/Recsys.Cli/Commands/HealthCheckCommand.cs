using System.CommandLine;

namespace Recsys.Cli.Commands;

/// <summary>For container HEALTHCHECKs: the runtime image has no curl, but it has the CLI.</summary>
internal static class HealthCheckCommand
{
    public static Command Create()
    {
        var url = new Option<string>("--url")
        {
            Description = "The health endpoint to ask.",
            DefaultValueFactory = _ => "http://127.0.0.1:8080/healthz",
        };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for the answer.", DefaultValueFactory = _ => 3 };
        var command = new Command("healthcheck", "Exit 0 when a running server answers its health endpoint with 2xx, 1 otherwise (for Docker HEALTHCHECK).")
        {
            url, timeout,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(parse.GetValue(timeout)) };
            try
            {
                using var response = await http.GetAsync(parse.GetValue(url), cancellationToken);
                await parse.InvocationConfiguration.Output.WriteLineAsync($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
                return response.IsSuccessStatusCode ? 0 : 1;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or InvalidOperationException)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"healthcheck: {parse.GetValue(url)}: {ex.Message}");
                return 1;
            }
        });
        return command;
    }
}
