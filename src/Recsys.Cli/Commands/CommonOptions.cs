using System.CommandLine;
using Recsys.Gateway.Hosting;

namespace Recsys.Cli.Commands;

/// <summary>Options that several verbs share, defined once.</summary>
internal static class CommonOptions
{
    public static Option<string> ServerUrl() => new("--url")
    {
        Description = "The running server to talk to.",
        DefaultValueFactory = _ => "http://localhost:8080",
    };

    public static Option<string?> ApiKey() => new("--api-key")
    {
        Description = $"The API key (default, and better: the {EmbeddedServer.ApiKeyEnvironmentVariable} environment variable; an argument is " +
                      "visible to every local user in the process list).",
    };

    public static Option<bool> Json() => new("--json")
    {
        Description = "Print the result as one JSON object (for scripts) instead of text.",
    };

    public static string? ResolveApiKey(string? fromOption) =>
        string.IsNullOrEmpty(fromOption) ? Environment.GetEnvironmentVariable(EmbeddedServer.ApiKeyEnvironmentVariable) : fromOption;
}
