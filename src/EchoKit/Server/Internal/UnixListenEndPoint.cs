using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EchoKit.Server.Internal;

/// <summary>
/// The address a Unix listener binds, serialized at the full size of <c>sockaddr_un</c> (the path, then zeros) rather
/// than at the path's length as <see cref="UnixDomainSocketEndPoint"/> does. Two things depend on it:
/// <list type="bullet">
/// <item>.NET's accept copies each client's address into a buffer the size of the listener's own address, and a
/// client bound to a longer name (any local process can bind a 60-byte abstract name) made that copy throw on the
/// runtime's event loop, which ends the process (FailFast). At full size every client address fits.</item>
/// <item>.NET unlinks the path of a bound <see cref="UnixDomainSocketEndPoint"/> when the socket is disposed, without
/// asking whether it is still its file. With this endpoint it does not, and <see cref="UnixSocketFile"/> removes the
/// file instead, only if it is still the one bound.</item>
/// </list>
/// The kernel reads a path up to its first zero, so the padding binds the same path.
/// </summary>
internal sealed class UnixListenEndPoint : EndPoint
{
    /// <summary>sizeof(struct sockaddr_un) on Linux: the family (2 bytes) and sun_path (108).</summary>
    private const int SockaddrUnSize = 110;
    private const int PathOffset = 2;

    private readonly byte[] _path; // sun_path as bound or as the kernel reported it, without trailing zeros

    private UnixListenEndPoint(byte[] path) => _path = path;

    /// <summary>An endpoint for <paramref name="path"/>, which must fit sun_path with its terminating zero.</summary>
    public UnixListenEndPoint(string path)
        : this(Encoding.UTF8.GetBytes(path))
    {
        if (Endpoints.EndpointParser.UnixPathError(path) is { } error)
        {
            throw new ArgumentOutOfRangeException(nameof(path), path, error); // the one check of a path's length
        }
    }

    public override AddressFamily AddressFamily => AddressFamily.Unix;

    public override SocketAddress Serialize()
    {
        var address = new SocketAddress(AddressFamily.Unix, SockaddrUnSize); // zeroed past the family
        _path.CopyTo(address.Buffer.Span[PathOffset..]);
        return address;
    }

    /// <summary>Any address the kernel reports (a client's too, up to the full size), cut at the buffer it came in.</summary>
    public override EndPoint Create(SocketAddress socketAddress)
    {
        var sunPath = socketAddress.Buffer.Span[..Math.Min(socketAddress.Size, socketAddress.Buffer.Length)];
        sunPath = sunPath.Length > PathOffset ? sunPath[PathOffset..] : [];
        if (sunPath.Length > 0 && sunPath[0] != 0 && sunPath.IndexOf((byte)0) is >= 0 and var end)
        {
            sunPath = sunPath[..end]; // a path ends at its zero; an abstract name (leading zero) has its exact length
        }
        return new UnixListenEndPoint(sunPath.ToArray());
    }

    /// <summary>The path, or an abstract name as .NET shows one (<c>@name</c>); escaped, since a client chooses its own.</summary>
    public override string ToString() => _path.Length > 0 && _path[0] == 0
        ? "@" + PeerText.Field(_path.AsSpan(1))
        : PeerText.Field(_path);

    public override bool Equals(object? obj) => obj is UnixListenEndPoint other && _path.AsSpan().SequenceEqual(other._path);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(_path);
        return hash.ToHashCode();
    }
}
