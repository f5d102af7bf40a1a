using System.Diagnostics;
using Recsys.Silo.Serving;

namespace Recsys.Silo.UnitTests;

public sealed class ModelFolderTests : IDisposable
{
    private readonly string _base = Directory.CreateTempSubdirectory("recsys-folder-").FullName;

    private string Root => Path.Combine(_base, "models");

    public void Dispose() => Directory.Delete(_base, recursive: true);

    private string Write(string path, int bytes)
    {
        var full = Path.Combine(_base, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, new byte[bytes]);
        return full;
    }

    private static async Task<string> RejectionAsync(ModelFolder folder, string name) =>
        (await Assert.ThrowsAsync<ModelFileException>(() => folder.ReadAsync(name, CancellationToken.None))).Message;

    [Fact]
    public async Task Names_resolve_inside_the_folder_which_is_created_when_missing()
    {
        var folder = new ModelFolder(Root, 1000);
        Assert.True(Directory.Exists(Root));
        Write("models/a.rsm", 10);
        Write("models/sub/b.rsm", 20);
        Write("secret.txt", 5);
        Write("models-other/c.rsm", 5);
        Assert.Equal(10, (await folder.ReadAsync("a.rsm", CancellationToken.None)).Length);
        Assert.Equal(20, (await folder.ReadAsync("sub/../sub/b.rsm", CancellationToken.None)).Length);
        Assert.Equal(10, (await folder.ReadAsync(Path.Combine(Root, "a.rsm"), CancellationToken.None)).Length);

        foreach (var outside in new[] { "../secret.txt", Path.Combine(_base, "secret.txt"), Root + "-other/c.rsm", "/etc/passwd", "/etc/shadow" })
        {
            var message = await RejectionAsync(folder, outside);
            Assert.Contains("outside the model folder", message, StringComparison.Ordinal);
            Assert.StartsWith($"'{outside}'", message, StringComparison.Ordinal); // the name as given, never the folder's own path
        }
        Assert.DoesNotContain(_base, await RejectionAsync(folder, "missing.rsm"), StringComparison.Ordinal);
        Assert.Contains("is a folder", await RejectionAsync(folder, "sub"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Links_are_followed_before_the_check_so_a_link_out_of_the_folder_is_refused()
    {
        var folder = new ModelFolder(Root, 1000);
        Write("models/real.rsm", 7);
        Write("outside/x.rsm", 9);
        File.CreateSymbolicLink(Path.Combine(Root, "passwd.rsm"), "/etc/passwd");
        File.CreateSymbolicLink(Path.Combine(Root, "inside.rsm"), "real.rsm");
        Directory.CreateSymbolicLink(Path.Combine(Root, "out"), Path.Combine(_base, "outside"));
        File.CreateSymbolicLink(Path.Combine(Root, "loop.rsm"), Path.Combine(Root, "loop.rsm"));

        Assert.Contains("outside the model folder", await RejectionAsync(folder, "passwd.rsm"), StringComparison.Ordinal);
        Assert.Contains("outside the model folder", await RejectionAsync(folder, "out/x.rsm"), StringComparison.Ordinal);
        Assert.Contains("cannot be resolved", await RejectionAsync(folder, "loop.rsm"), StringComparison.Ordinal);
        Assert.Equal(7, (await folder.ReadAsync("inside.rsm", CancellationToken.None)).Length);

        // The folder itself may be a link (Kubernetes volumes often are): names inside it still resolve.
        var linked = Path.Combine(_base, "linked-models");
        Directory.CreateSymbolicLink(linked, Root);
        Assert.Equal(7, (await new ModelFolder(linked, 1000).ReadAsync("real.rsm", CancellationToken.None)).Length);
    }

    [Fact]
    public async Task Only_regular_files_under_the_size_cap_are_read()
    {
        var folder = new ModelFolder("/", 1000);
        Write("models/big.rsm", 1001);
        Write("models/fits.rsm", 1000);
        Assert.Contains("larger than 1,000 bytes", await RejectionAsync(folder, Path.Combine(Root, "big.rsm")), StringComparison.Ordinal);
        Assert.Equal(1000, (await folder.ReadAsync(Path.Combine(Root, "fits.rsm"), CancellationToken.None)).Length);
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        Assert.Contains("not a regular file", await RejectionAsync(folder, "/dev/zero"), StringComparison.Ordinal);
        Assert.Contains("not a regular file", await RejectionAsync(folder, "/dev/null"), StringComparison.Ordinal);
        // procfs reports no length: the cap stops the read instead.
        Assert.Contains("larger than", await RejectionAsync(folder, "/proc/self/maps"), StringComparison.Ordinal);

        // A FIFO would block the open until a writer came; it is refused without being opened.
        var fifo = Path.Combine(Root, "pipe.rsm");
        using (var mkfifo = Process.Start("mkfifo", fifo))
        {
            await mkfifo.WaitForExitAsync();
            Assert.Equal(0, mkfifo.ExitCode);
        }
        var read = folder.ReadAsync(fifo, CancellationToken.None);
        Assert.Same(read, await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(30))));
        Assert.Contains("not a regular file", (await Assert.ThrowsAsync<ModelFileException>(() => read)).Message, StringComparison.Ordinal);
    }
}
