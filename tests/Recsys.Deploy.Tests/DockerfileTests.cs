namespace Recsys.Deploy.Tests;

public sealed class DockerfileTests
{
    private static readonly string Root = Repository.Root;

    [Theory]
    [InlineData("Dockerfile.silo")]
    [InlineData("Dockerfile.gateway")]
    public void The_restore_layer_copies_exactly_the_projects_under_src(string dockerfile)
    {
        // A project missing from the layer fails the image's restore; one that no longer exists fails its COPY.
        var copied = File.ReadLines(Path.Combine(Root, dockerfile))
            .Where(static line => line.StartsWith("COPY src/", StringComparison.Ordinal) && line.Contains(".csproj", StringComparison.Ordinal))
            .Select(static line => line.Split(' ')[1])
            .Order(StringComparer.Ordinal)
            .ToArray();
        var projects = Directory.GetFiles(Path.Combine(Root, "src"), "*.csproj", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(Root, path).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToArray();
        Assert.Equal(projects, copied);
    }
}
