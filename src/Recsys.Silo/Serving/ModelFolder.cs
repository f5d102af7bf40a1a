namespace Recsys.Silo.Serving;

/// <summary>
/// A checkpoint named by an admin could not be used as a file (outside the folder, missing, not a regular file, too
/// large, unreadable); nothing was loaded. The message names the path as it was given, never the server's folders.
/// </summary>
public sealed class ModelFileException(string message) : Exception(message);

/// <summary>
/// The one folder admin loads read checkpoints from. A name resolves inside it after every symbolic link is followed,
/// only regular files are opened (a FIFO would block the open, a device never end), and at most a size cap is read,
/// in chunks that a cancelled request stops.
/// </summary>
public sealed class ModelFolder
{
    private const int MaxLinkDepth = 40;
    private readonly string _root;

    /// <summary>Creates <paramref name="directory"/> when it is missing.</summary>
    /// <exception cref="ModelFileException">It is missing and cannot be created (a read-only file system).</exception>
    public ModelFolder(string directory, long maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        try
        {
            Directory.CreateDirectory(directory);
            _root = WithSeparator(ResolveLinks(Path.GetFullPath(directory), 0));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModelFileException("the model folder (Recsys:Silo:Model:Directory) does not exist and cannot be created");
        }
        MaxBytes = maxBytes;
    }

    public long MaxBytes { get; }

    /// <summary>The checkpoint's bytes.</summary>
    /// <exception cref="ModelFileException">The name does not lead to a readable regular file inside the folder.</exception>
    public async Task<byte[]> ReadAsync(string name, CancellationToken cancellationToken)
    {
        var path = Resolve(name);
        var kind = FileKind.Of(path, out var length);
        switch (kind)
        {
            case FileKind.Kind.Missing:
                throw new ModelFileException($"'{name}' does not exist in the model folder");
            case FileKind.Kind.Directory:
                throw new ModelFileException($"'{name}' is a folder; name a checkpoint file");
            case FileKind.Kind.Other:
                throw new ModelFileException($"'{name}' is not a regular file (a device, pipe or socket); name a checkpoint file");
        }
        if (length > MaxBytes)
        {
            throw TooLarge(name);
        }
        try
        {
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            var bytes = new MemoryStream(length > 0 ? (int)length : 0);
            var chunk = new byte[1 << 20];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (bytes.Length + read > MaxBytes)
                {
                    throw TooLarge(name); // a file that grew, or reports no length (procfs, sysfs)
                }
                bytes.Write(chunk, 0, read);
            }
            return bytes.ToArray();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModelFileException($"'{name}' cannot be read ({ex.GetType().Name.Replace("Exception", "", StringComparison.Ordinal)})");
        }
    }

    /// <summary>The full path of <paramref name="name"/> with every link followed, when it is inside the folder.</summary>
    private string Resolve(string name)
    {
        string resolved;
        try
        {
            resolved = ResolveLinks(Path.GetFullPath(name, _root), 0);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new ModelFileException($"'{name}' cannot be resolved to a file (a broken or circular link, or an invalid name)");
        }
        if (!resolved.StartsWith(_root, StringComparison.Ordinal))
        {
            throw new ModelFileException($"'{name}' is outside the model folder; name a checkpoint inside it (links are followed)");
        }
        return resolved;
    }

    private ModelFileException TooLarge(string name) => new(
        $"'{name}' is larger than {MaxBytes:N0} bytes, the checkpoint size limit (Recsys:Silo:Model:MaxCheckpointBytes)");

    private static string WithSeparator(string path) =>
        Path.EndsInDirectorySeparator(path) ? path : path + Path.DirectorySeparatorChar; // "/" stays "/"

    /// <summary>Follows links in every component of an absolute path, as realpath(3) does.</summary>
    private static string ResolveLinks(string fullPath, int depth)
    {
        if (depth > MaxLinkDepth)
        {
            throw new IOException("too many levels of links");
        }
        var root = Path.GetPathRoot(fullPath)!;
        var current = root;
        foreach (var part in fullPath[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            var next = Path.Combine(current, part);
            var info = new FileInfo(next);
            if (info.LinkTarget is { } target)
            {
                next = ResolveLinks(Path.GetFullPath(target, current), depth + 1);
            }
            current = next;
        }
        return current;
    }
}
