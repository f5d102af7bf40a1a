namespace Recsys.Deploy.Tests;

/// <summary>The checkout the tests run from.</summary>
internal static class Repository
{
    public static readonly string Root = Find();

    private static string Find()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Recsys.Orleans.sln")))
        {
            directory = directory.Parent;
        }
        return directory?.FullName ?? throw new InvalidOperationException("not inside the repository");
    }
}
