using System.Runtime.InteropServices;

namespace Recsys.Silo.Serving;

/// <summary>
/// Whether a path is a regular file, without opening it: .NET reports FIFOs and devices as normal files, and opening a
/// FIFO blocks until a writer comes. On Linux statx(2), whose buffer layout is the same on every architecture.
/// </summary>
internal static partial class FileKind
{
    public enum Kind
    {
        Regular,
        Directory,
        Other,
        Missing,
    }

    private const int AtCurrentDirectory = -100;
    private const uint TypeAndSize = 0x0001 | 0x0200; // STATX_TYPE | STATX_SIZE
    private const int ModeOffset = 28; // stx_mode (u16)
    private const int SizeOffset = 40; // stx_size (u64)
    private const int TypeMask = 0xF000, RegularType = 0x8000, DirectoryType = 0x4000;

    public static Kind Of(string fullPath, out long length)
    {
        length = 0;
        if (!OperatingSystem.IsLinux())
        {
            var info = new FileInfo(fullPath);
            if (Directory.Exists(fullPath))
            {
                return Kind.Directory;
            }
            if (!info.Exists)
            {
                return Kind.Missing;
            }
            length = info.Length;
            return Kind.Regular; // elsewhere the size cap and a cancellable read still bound what a load reads
        }
        Span<byte> buffer = stackalloc byte[256];
        if (Statx(AtCurrentDirectory, fullPath, 0, TypeAndSize, buffer) != 0)
        {
            return Kind.Missing;
        }
        length = (long)BitConverter.ToUInt64(buffer[SizeOffset..]);
        return (BitConverter.ToUInt16(buffer[ModeOffset..]) & TypeMask) switch
        {
            RegularType => Kind.Regular,
            DirectoryType => Kind.Directory,
            _ => Kind.Other,
        };
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directory, string path, int flags, uint mask, Span<byte> buffer);
}
