using System.Text;

namespace EchoKit.Client;

/// <summary>Settings for <see cref="InteractiveClient"/> (<c>echokit connect</c>).</summary>
public sealed class ConnectOptions
{
    /// <summary>The most a UDP/IPv4 datagram can carry: 65535 minus the IP and UDP headers.</summary>
    public const int MaxUdpPayload = 65507;

    /// <summary>
    /// Speak UDP instead of TCP: each line of input is one datagram, each datagram received is printed.
    /// Default false (TCP).
    /// </summary>
    public bool Udp { get; set; }

    /// <summary>How to reach the server: a Unix socket, IPv4 or IPv6 only, a source address. Default: the endpoint's addresses.</summary>
    public ClientTransport Transport { get; set; } = new();

    /// <summary>Run TLS over the TCP connection (SslStream); null (the default) means plain TCP. Not with <see cref="Udp"/>.</summary>
    public ConnectTlsOptions? Tls { get; set; }

    /// <summary>Send line ends as CRLF (a lone LF in the input becomes CR LF), as SMTP, POP3, IMAP, HTTP and FTP require. Default false.</summary>
    public bool Crlf { get; set; }

    /// <summary>
    /// Text encoding of the conversation, or null (the default) to pass bytes through untouched both ways.
    /// When set, input is read as UTF-8 and sent in this encoding, and what arrives is decoded with one stateful
    /// decoder (no character is broken across reads) and written as UTF-8.
    /// </summary>
    public Encoding? Encoding { get; set; }

    /// <summary>Print received bytes as a hex dump (offset, hex, ASCII) instead of as they are. Default false. Not with <see cref="Encoding"/>.</summary>
    public bool HexDump { get; set; }

    /// <summary>
    /// Show the control bytes of what arrives escaped as <c>cat -v</c> and <c>socat -v</c> do (<c>\x1b</c>,
    /// <c>\x07</c>, <c>\u{202E}</c>, <c>\xff</c> for a byte that is not UTF-8), so a server's escape sequences
    /// are seen, not run, by the terminal; line breaks, tabs and carriage returns pass. Default false (bytes as they
    /// are, which pipes and files need); the <c>echokit connect</c> program sets it when its output is a terminal.
    /// No effect with <see cref="HexDump"/>, which is escaped already.
    /// </summary>
    public bool EscapeControls { get; set; }

    /// <summary>
    /// At the end of input, half-close the connection (send FIN, after TLS close_notify) and keep printing until
    /// the peer closes. Default true, as the peer often only answers or closes once it sees the end; false keeps
    /// our side open (ncat's --no-shutdown) for servers that treat a half-close as an abort.
    /// </summary>
    public bool HalfClose { get; set; } = true;

    /// <summary>Bounds name resolution, connecting and the TLS handshake together. Default 10 s, at most 1 hour.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Give up when no byte moves either way for this long; null (the default) waits for ever, like telnet.</summary>
    public TimeSpan? IdleTimeout { get; set; }

    /// <summary>
    /// UDP: after input ends, keep printing datagrams until none has arrived for this long, then end with success.
    /// Default 2 s, at most 1 hour. (ncat's UDP client exits at the end of input, before a reply can arrive.)
    /// </summary>
    public TimeSpan ReplyTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Bytes per read of input and of the socket (TCP). Default 16 KiB, from 512 B to 1 MiB: bounds what is held at once.</summary>
    public int BufferSize { get; set; } = 16 * 1024;

    /// <summary>UDP: the longest datagram sent; a longer input line is an error. Default and maximum <see cref="MaxUdpPayload"/>.</summary>
    public int MaxDatagramSize { get; set; } = MaxUdpPayload;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range or in conflict.</summary>
    public void Validate()
    {
        if (ConnectTimeout <= TimeSpan.Zero || ConnectTimeout > TimeSpan.FromHours(1))
        {
            throw new ArgumentException("connect timeout must be from 1 ms to 1 hour", nameof(ConnectTimeout));
        }
        if (IdleTimeout is { } idle && (idle <= TimeSpan.Zero || idle > TimeSpan.FromDays(1)))
        {
            throw new ArgumentException("idle timeout must be from 1 ms to 1 day", nameof(IdleTimeout));
        }
        if (ReplyTimeout < TimeSpan.Zero || ReplyTimeout > TimeSpan.FromHours(1))
        {
            throw new ArgumentException("reply timeout must be from 0 to 1 hour", nameof(ReplyTimeout));
        }
        if (BufferSize is < 512 or > 1024 * 1024)
        {
            throw new ArgumentException("buffer size must be from 512 bytes to 1 MiB", nameof(BufferSize));
        }
        if (MaxDatagramSize is < 1 or > MaxUdpPayload)
        {
            throw new ArgumentException($"max datagram size must be from 1 to {MaxUdpPayload}", nameof(MaxDatagramSize));
        }
        if (HexDump && Encoding is not null)
        {
            throw new ArgumentException("choose a hex dump or a text encoding, not both", nameof(HexDump));
        }
        if (Udp && Tls is not null)
        {
            throw new ArgumentException("TLS runs over TCP only (DTLS is not supported)", nameof(Tls));
        }
        ArgumentNullException.ThrowIfNull(Transport);
        Transport.Validate();
        if (Udp && Transport.UnixSocketPath is not null)
        {
            throw new ArgumentException("UDP over a Unix socket is not supported (Unix listeners are stream sockets)", nameof(Transport));
        }
        Tls?.Validate();
    }
}
