using System.Text;

namespace EchoKit.Internal;

/// <summary>
/// Reads a whole input file (a config file, a range list, a PEM certificate or key) with a bound on its size. The
/// bound is on the bytes read, not on the size the file reports: a pipe, a FIFO or a device (<c>--config &lt;(...)</c>,
/// <c>/dev/stdin</c>, <c>/dev/zero</c>) reports 0 and could otherwise fill memory. Reading stops at one byte past the
/// bound, so an endless input fails as soon as it is too long instead of waiting for an end that never comes.
/// </summary>
/// <remarks>
/// The one bounded reader of the library and the program (compiled into both from src/Shared): each caller says its
/// own cap and turns <see cref="InvalidDataException"/> into its own error.
/// </remarks>
internal static class BoundedFile
{
    /// <summary>
    /// The bytes of the file at <paramref name="path"/>. Throws <see cref="InvalidDataException"/>, with the message
    /// "PATH: larger than N KiB", once more than <paramref name="maxBytes"/> were read; the exceptions of opening and
    /// reading a file (<see cref="IOException"/>, <see cref="UnauthorizedAccessException"/>...) otherwise.
    /// </summary>
    public static byte[] ReadAllBytes(string path, int maxBytes)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        var buffer = new byte[Math.Min(maxBytes + 1, 64 * 1024)];
        var length = 0;
        int read;
        while ((read = stream.Read(buffer, length, buffer.Length - length)) > 0)
        {
            length += read;
            if (length > maxBytes)
            {
                throw new InvalidDataException($"{path}: larger than {maxBytes / 1024} KiB");
            }
            if (length == buffer.Length)
            {
                Array.Resize(ref buffer, (int)Math.Min(buffer.Length * 2L, maxBytes + 1L));
            }
        }
        Array.Resize(ref buffer, length);
        return buffer;
    }

    /// <summary>
    /// The text of the file at <paramref name="path"/>, as <see cref="File.ReadAllText(string)"/> decodes it (UTF-8
    /// unless a byte order mark says otherwise), with the bound and exceptions of <see cref="ReadAllBytes"/>.
    /// </summary>
    public static string ReadAllText(string path, int maxBytes)
    {
        using var reader = new StreamReader(new MemoryStream(ReadAllBytes(path, maxBytes)), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }
}
