using System.Net.Sockets;
using EchoKit.Bench.Internal;
using EchoKit.Client;
using EchoKit.Internal.Linux;

namespace EchoKit.Tests.Client;

/// <summary>
/// The client and the bench name errors in their own words from one classifier (SocketErrors): the words users see
/// stay as they were, and an error means the same to both.
/// </summary>
[Trait("Kind", "Unit")]
public sealed class SocketErrorClassificationTests
{
    [Theory]
    [InlineData(SocketError.ConnectionRefused, ExchangeOutcome.Refused, "connection refused")]
    [InlineData(SocketError.TryAgain, ExchangeOutcome.HostNotFound, "host not found")]
    [InlineData(SocketError.NetworkDown, ExchangeOutcome.Unreachable, "network unreachable")]
    [InlineData(SocketError.Shutdown, ExchangeOutcome.Reset, "connection reset by peer")]
    [InlineData(SocketError.ConnectionAborted, ExchangeOutcome.Reset, "connection reset by peer")]
    [InlineData(SocketError.TimedOut, ExchangeOutcome.TimedOut, "timed out")]
    [InlineData(SocketError.AddressNotAvailable, ExchangeOutcome.Failed, "address not available")]
    [InlineData(SocketError.AddressAlreadyInUse, ExchangeOutcome.Failed, "source address already in use")]
    [InlineData(SocketError.AddressFamilyNotSupported, ExchangeOutcome.HostNotFound, "no address of the IP version asked for (-4/-6, --source)")]
    [InlineData(SocketError.AccessDenied, ExchangeOutcome.Failed, "permission denied")]
    public void ClientDescribesSocketErrorsInItsUsualWords(SocketError error, ExchangeOutcome outcome, string message)
    {
        Assert.Equal((outcome, message), ClientErrors.Describe(error));
    }

    [Fact]
    public void AStreamErrorIsNamedInTheSystemsWordsNotAsAccessDenied()
    {
        // What .NET throws for write(2) on a closed descriptor: EBADF inside "Access to the path is denied".
        var badDescriptor = new UnauthorizedAccessException("Access to the path is denied.", new IOException("Bad file descriptor", Errno.EBADF));

        Assert.Equal("Bad file descriptor", ClientErrors.DescribeStreamError(badDescriptor));
        Assert.Equal("No space left on device", ClientErrors.DescribeStreamError(new IOException("No space left on device", 28)));
        Assert.Null(ClientErrors.DescribeStreamError(new InvalidOperationException("not a stream error")));
    }

    [Fact]
    public void OnlyEpipeMeansTheReaderOfThePipeHasGone()
    {
        Assert.True(ClientErrors.IsBrokenPipe(new IOException("Broken pipe", Errno.EPIPE)));
        Assert.False(ClientErrors.IsBrokenPipe(new IOException("No space left on device", 28)));
        Assert.False(ClientErrors.IsBrokenPipe(new UnauthorizedAccessException("Access to the path is denied.", new IOException("Bad file descriptor", Errno.EBADF))));
    }

    [Fact]
    public void ClientFallsBackToTheSystemMessageForErrorsItDoesNotName()
    {
        var (outcome, message) = ClientErrors.Describe(SocketError.NotConnected);

        Assert.Equal(ExchangeOutcome.Failed, outcome);
        Assert.Equal(new SocketException((int)SocketError.NotConnected).Message.ToLowerInvariant(), message);
    }

    [Theory]
    [InlineData(Errno.ECONNREFUSED, "refused")]
    [InlineData(Errno.ECONNRESET, "reset")]
    [InlineData(Errno.EPIPE, "reset")]
    [InlineData(Errno.ECONNABORTED, "reset")]
    [InlineData(Errno.ETIMEDOUT, "timed out")]
    [InlineData(Errno.EHOSTUNREACH, "unreachable")]
    [InlineData(Errno.ENETUNREACH, "unreachable")]
    [InlineData(Errno.EADDRNOTAVAIL, "address not available")]
    [InlineData(Errno.ENOMEM, "other")]
    public void BenchNamesErrnosFromTheEpollWorkers(int errno, string reason)
    {
        Assert.Equal(reason, BenchErrors.Name(BenchErrors.FromErrno(errno)));
    }

    [Theory]
    [InlineData(Errno.ECONNREFUSED)]
    [InlineData(Errno.ECONNRESET)]
    [InlineData(Errno.EPIPE)]
    [InlineData(Errno.ETIMEDOUT)]
    [InlineData(Errno.ENETDOWN)]
    public void AnErrnoAndItsSocketErrorMeanTheSameToTheClientAndTheBench(int errno)
    {
        var error = Errno.ToSocketError(errno);
        var client = ClientErrors.Describe(error).Outcome;
        var bench = BenchErrors.FromErrno(errno);

        Assert.Equal(bench, BenchErrors.FromSocketError(error));
        var expected = bench switch
        {
            BenchError.Refused => ExchangeOutcome.Refused,
            BenchError.Reset => ExchangeOutcome.Reset,
            BenchError.TimedOut => ExchangeOutcome.TimedOut,
            BenchError.Unreachable => ExchangeOutcome.Unreachable,
            _ => ExchangeOutcome.Failed,
        };
        Assert.Equal(expected, client);
    }
}
