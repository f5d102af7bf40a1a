using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Recsys.Contracts;
using Recsys.Gateway;

namespace Recsys.Cli;

/// <summary>A request the server refused; the message carries the server's problem details.</summary>
internal sealed class ApiException(int statusCode, string message) : Exception(message)
{
    public int StatusCode { get; } = statusCode;

    /// <summary>Sending the same request again cannot help (bad key, bad data): stop rather than retry.</summary>
    public bool IsPermanent => StatusCode is >= 400 and < 500 and not 429;
}

/// <summary>The client side of the /v1 write API, for the CLI verbs that feed a running server.</summary>
internal sealed class RecsysApiClient : IDisposable
{
    private const int MaxAttempts = 6;
    private readonly HttpClient _http;

    public RecsysApiClient(string baseUrl, string? apiKey)
    {
        if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"--url '{baseUrl}' is not an http(s) address");
        }
        _http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = uri,
            Timeout = TimeSpan.FromSeconds(60),
        };
        if (!string.IsNullOrEmpty(apiKey))
        {
            _http.DefaultRequestHeaders.Add(ApiKeyValidator.HeaderName, apiKey);
        }
    }

    public Task<EventsAcceptedResponse> PostEventsAsync(List<EventRequest> events, CancellationToken cancellationToken) =>
        PostAsync("v1/events", JsonSerializer.SerializeToUtf8Bytes(events, ApiJsonContext.Default.ListEventRequest),
            ApiJsonContext.Default.EventsAcceptedResponse, cancellationToken);

    public Task<ItemsUpsertedResponse> PostItemsAsync(List<ItemRequest> items, CancellationToken cancellationToken) =>
        PostAsync("v1/items", JsonSerializer.SerializeToUtf8Bytes(items, ApiJsonContext.Default.ListItemRequest),
            ApiJsonContext.Default.ItemsUpsertedResponse, cancellationToken);

    public void Dispose() => _http.Dispose();

    private async Task<T> PostAsync<T>(string path, byte[] body, JsonTypeInfo<T> responseType, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await _http.PostAsync(path, content, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
                return await JsonSerializer.DeserializeAsync(stream, responseType, cancellationToken)
                       ?? throw new ApiException((int)response.StatusCode, $"POST /{path} answered {(int)response.StatusCode} with an empty body");
            }
            // Overload answers are transient: wait as told and send the same batch again (dedup makes it safe).
            if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable && attempt < MaxAttempts)
            {
                var wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromMilliseconds(200 * attempt);
                await Task.Delay(wait, cancellationToken);
                continue;
            }
            throw new ApiException((int)response.StatusCode, $"POST /{path} answered {(int)response.StatusCode}: {await DescribeProblemAsync(response, cancellationToken)}");
        }
    }

    private static async Task<string> DescribeProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            using var problem = JsonDocument.Parse(text);
            var root = problem.RootElement;
            var message = new StringBuilder();
            message.Append(root.TryGetProperty("title", out var title) ? title.GetString() : response.ReasonPhrase);
            if (root.TryGetProperty("detail", out var detail))
            {
                message.Append(": ").Append(detail.GetString());
            }
            if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
            {
                foreach (var field in errors.EnumerateObject().Take(10))
                {
                    message.AppendLine().Append("  ").Append(field.Name).Append(": ").Append(string.Join("; ", field.Value.EnumerateArray().Select(static m => m.GetString())));
                }
            }
            return message.ToString();
        }
        catch (JsonException)
        {
            return text.Length > 300 ? text[..300] : text;
        }
    }
}
