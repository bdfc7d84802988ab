using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using EchoKit.Endpoints;

namespace EchoKit.Client.Internal;

/// <summary>
/// Tells whether a server speaks TLS, for the reason a plain client gives when the server hung up on it: one more
/// connection, a ClientHello, and any completed handshake (the certificate is not judged, only the protocol).
/// </summary>
internal static class TlsProbe
{
    /// <summary>How long the probe may take: it only improves a message, so it never holds the user for long.</summary>
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(2);

    /// <summary>True when the bytes start like a TLS record: a handshake (0x16) or an alert (0x15), version 3.x.</summary>
    public static bool IsTlsRecord(ReadOnlySpan<byte> bytes) => bytes.Length >= 2 && bytes[0] is 0x15 or 0x16 && bytes[1] == 0x03;

    public static async Task<bool> SpeaksTlsAsync(EndpointSpec endpoint, ClientTransport transport, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(Limit);
        try
        {
            using var socket = await EchoConnector.ConnectAsync(endpoint, transport, SocketType.Stream, null, limit.Token).ConfigureAwait(false);
            await using var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false);
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = endpoint.Host ?? "localhost",
                // Only the protocol is in question here; nothing is sent over this connection.
                RemoteCertificateValidationCallback = static (_, _, _, _) => true,
            }, limit.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or IOException or AuthenticationException or OperationCanceledException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return false; // not TLS, or not answering: the original reason stands
        }
    }
}
