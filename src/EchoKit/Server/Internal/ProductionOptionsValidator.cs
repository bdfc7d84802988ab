namespace EchoKit.Server.Internal;

/// <summary>Checks the limit, access, TLS, Unix and PROXY settings of <see cref="EchoServerOptions"/>.</summary>
internal static class ProductionOptionsValidator
{
    private const UnixFileMode PermissionBits = (UnixFileMode)0x1FF; // 0777

    public static void Validate(EchoServerOptions options)
    {
        if (options.MaxConnections is < 1 or > 10_000_000)
        {
            throw new ArgumentException($"max connections must be from 1 to 10000000, not {options.MaxConnections}", nameof(options.MaxConnections));
        }
        if (options.IdleTimeout is { } idle && (idle < TimeSpan.FromMilliseconds(100) || idle > TimeSpan.FromDays(7)))
        {
            throw new ArgumentException($"idle timeout must be from 100ms to 7 days, not {idle}", nameof(options.IdleTimeout));
        }
        if (options.ReusePort && !OperatingSystem.IsLinux())
        {
            throw new ArgumentException("SO_REUSEPORT is supported on Linux only", nameof(options.ReusePort));
        }
        options.Tls.Validate(options.Endpoints.Any(e => e.Protocol == ListenProtocol.Tls));
        options.ProxyProtocol.Validate();
        foreach (var endpoint in options.Endpoints)
        {
            if (endpoint.Protocol == ListenProtocol.Unix)
            {
                ValidateUnix(endpoint);
            }
            else if (endpoint.UnixPath is not null || endpoint.UnixMode is not null)
            {
                throw new ArgumentException($"listener {endpoint.Endpoint}: a Unix path or mode is only for Unix listeners", nameof(options.Endpoints));
            }
        }
    }

    private static void ValidateUnix(ListenEndpoint endpoint)
    {
        if (string.IsNullOrEmpty(endpoint.UnixPath))
        {
            throw new ArgumentException("a Unix listener needs a socket path", nameof(endpoint.UnixPath));
        }
        if (Endpoints.EndpointParser.UnixPathError(endpoint.UnixPath) is { } error)
        {
            throw new ArgumentException(error, nameof(endpoint.UnixPath)); // the clients' check: one limit, one message
        }
        if (endpoint.UnixMode is not null && OperatingSystem.IsWindows())
        {
            throw new ArgumentException("Unix socket permissions cannot be set on Windows", nameof(endpoint.UnixMode));
        }
        if (endpoint.UnixMode is { } mode && (mode & ~PermissionBits) != 0)
        {
            throw new ArgumentException($"Unix socket mode must be permission bits only (0 to 777 octal), not {Convert.ToString((int)mode, 8)}", nameof(endpoint.UnixMode));
        }
    }
}
