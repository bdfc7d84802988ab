using System.Net.Sockets;

namespace EchoKit.Tests.Server;

[Trait("Kind", "Unit")]
public sealed class SocketErrorsTests
{
    [Fact]
    public void ATlsStreamsOwnIOExceptionIsAProtocolErrorButASocketErrorUnderItIsNot()
    {
        // As SslStream throws them: a refused renegotiation (no inner exception), a record that does not decrypt
        // (an inner exception from the TLS library), and a broken socket under the stream.
        Assert.True(SocketErrors.IsTlsProtocolError(new IOException("The remote party requested renegotiation when AllowRenegotiation was set to false.")));
        Assert.True(SocketErrors.IsTlsProtocolError(new IOException("The decryption operation failed, see inner exception.", new InvalidOperationException())));
        Assert.False(SocketErrors.IsTlsProtocolError(new IOException("Broken pipe", new SocketException((int)SocketError.Shutdown))));
        Assert.False(SocketErrors.IsTlsProtocolError(new InvalidOperationException()));
    }
}
