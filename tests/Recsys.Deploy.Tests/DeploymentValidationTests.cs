using System.Diagnostics;

namespace Recsys.Deploy.Tests;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DeployCollection
{
    // One at a time: the first run installs the validation tools into a shared folder.
    public const string Name = "deploy";
}

[Collection(DeployCollection.Name)]
public sealed class DeploymentValidationTests
{
    private static readonly string Root = Repository.Root;

    private static async Task<(int ExitCode, string Output)> ValidateAsync(params string[] args)
    {
        var info = new ProcessStartInfo(Path.Combine(Root, "scripts", "validate-deploy.sh"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Root,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await error);
    }

    [Fact]
    public async Task The_dockerfiles_manifests_and_chart_pass_every_offline_validation()
    {
        var (exitCode, output) = await ValidateAsync();
        Assert.True(exitCode == 0, output);
        Assert.Contains("deploy validation: 11 passed, 0 failed", output);
        Assert.Contains("ok    helm lint --strict (CI values)", output);
        Assert.Contains("ok    schemas: rendered chart", output);
    }

    [Fact]
    public async Task A_broken_manifest_fails_schema_validation_naming_the_field()
    {
        var broken = Path.Combine(Path.GetTempPath(), $"broken-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(broken, """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: recsys-silo
            spec:
              replicas: three
              selector:
                matchLabels: {app: recsys}
              template:
                metadata:
                  labels: {app: recsys}
                spec:
                  containers:
                    - name: silo
                      image: recsys-silo:0.1.0
            """);
        try
        {
            var (exitCode, output) = await ValidateAsync(broken);
            Assert.NotEqual(0, exitCode);
            Assert.Contains("FAIL  schemas: " + broken, output);
            Assert.Contains("spec/replicas must be integer", output);
            Assert.Contains("deploy validation: 11 passed, 1 failed", output);
        }
        finally
        {
            File.Delete(broken);
        }
    }
}
