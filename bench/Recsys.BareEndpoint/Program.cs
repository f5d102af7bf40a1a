// The ceiling for GET recommendations on this machine: ASP.NET Core returning a fixed 10-item response of
// the same shape and size, with no work behind it. bench/http/compare.sh measures it beside the real server.
using System.Text;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();
var items = string.Join(",", Enumerable.Range(0, 10).Select(i =>
    $"{{\"itemId\":\"sku-006-{i:D4}\",\"score\":0.{90 - i},\"reason\":\"because you clicked Pro smartwatches 1\"}}"));
var body = Encoding.UTF8.GetBytes(
    $"{{\"userId\":\"user-00007\",\"recommendationId\":\"01a20306ec887373b3e2c085d923bf52\",\"modelVersion\":\"fallback-v1\",\"items\":[{items}]}}");
app.MapGet("/v1/users/{userId}/recommendations", (HttpContext context) =>
{
    context.Response.ContentType = "application/json; charset=utf-8";
    return context.Response.Body.WriteAsync(body).AsTask();
});
app.Run();
