using System.Text;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Connect;

/// <summary>How <c>echokit connect</c> prints what arrives: hex dump and decoded text.</summary>
[Trait("Kind", "Cli")]
public sealed class ConnectHexTests
{
    [Fact]
    public async Task ConnectHexPrintsOffsetHexAndAsciiOfReceivedBytes()
    {
        var payload = Encoding.ASCII.GetBytes("HELLO, world!\r\n").Concat(new byte[] { 0x00, 0x01, 0xff, 0x7f, 0x20 }).ToArray();
        await using var server = ScriptedTcpServer.Start(async (socket, token) =>
        {
            await SocketIo.SendAllAsync(socket, payload, token);
            socket.Shutdown(System.Net.Sockets.SocketShutdown.Both);
        });
        await using var connect = EchokitProcess.Start(["connect", "--hex", server.Endpoint]);

        var code = await connect.WaitForExitAsync();

        Assert.Equal(0, code);
        // One read may carry all 20 bytes or the kernel may split them; the dump's offsets run on either way,
        // so check the bytes and offsets it shows rather than the row breaks.
        var rows = connect.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var shown = new List<byte>();
        foreach (var row in rows)
        {
            Assert.Matches(@"^[0-9a-f]{8}  ", row);
            Assert.Equal(shown.Count, Convert.ToInt32(row[..8], 16));
            var hex = row[10..59].Replace(" ", "", StringComparison.Ordinal);
            shown.AddRange(Convert.FromHexString(hex));
        }
        Assert.Equal(payload, shown.ToArray());
        if (rows.Length == 2)
        {
            Assert.Equal("00000000  48 45 4c 4c 4f 2c 20 77  6f 72 6c 64 21 0d 0a 00  |HELLO, world!...|", rows[0]);
            Assert.Equal("00000010  01 ff 7f 20                                       |... |", rows[1]);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task OnATerminalTheServersEscapeSequencesAreShownNotRunUnlessRawIsAsked(bool raw)
    {
        var hostile = "\x1b]0;owned\x07\x1b[2Jhello\n"u8.ToArray();
        await using var server = ScriptedTcpServer.Start(async (socket, token) =>
        {
            await SocketIo.SendAllAsync(socket, hostile, token);
            socket.Shutdown(System.Net.Sockets.SocketShutdown.Both);
        });

        var (code, shown, _) = await EchokitProcess.RunOnTerminalAsync(raw ? ["connect", "--raw", server.Endpoint] : ["connect", server.Endpoint]);

        Assert.Equal(0, code);
        if (raw)
        {
            Assert.Contains("\x1b]0;owned\x07\x1b[2Jhello\r\n", shown);
        }
        else
        {
            Assert.Contains(@"\x1b]0;owned\x07\x1b[2Jhello" + "\r\n", shown);
            Assert.DoesNotContain("\x1b]0;", shown);
            Assert.DoesNotContain("\x1b[2J", shown);
            Assert.DoesNotContain("\x07", shown);
        }
    }

    [Fact]
    public async Task ConnectEncodingDecodesRepliesAndEncodesInput()
    {
        var gbk = CodePagesEncodingProvider.Instance.GetEncoding("gbk")!;
        var wire = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = ScriptedTcpServer.Start(async (socket, token) =>
        {
            var buffer = new byte[64];
            var read = await socket.ReceiveAsync(buffer, token);
            wire.SetResult(buffer[..read]);
            // Send the reply one byte per send, so two-byte characters may well straddle the client's reads.
            foreach (var b in gbk.GetBytes("你好，世界\n"))
            {
                await SocketIo.SendAllAsync(socket, new[] { b }, token);
            }
            socket.Shutdown(System.Net.Sockets.SocketShutdown.Both);
        });
        await using var connect = EchokitProcess.Start(["connect", "--encoding", "gbk", server.Endpoint]);

        await connect.WriteAsync("中文\n");
        var code = await connect.WaitForExitAsync();

        Assert.Equal(0, code);
        Assert.Equal(gbk.GetBytes("中文\n"), await wire.Task.WaitAsync(TestTimeouts.Default));
        Assert.Equal("你好，世界\n", connect.Stdout);
    }

    [Fact]
    public async Task ConnectRefusesInputItsEncodingCannotWriteInsteadOfSendingAQuestionMark()
    {
        var wire = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = ScriptedTcpServer.Start(async (socket, token) =>
        {
            var buffer = new byte[64];
            wire.SetResult(await socket.ReceiveAsync(buffer, token)); // 0: the client closed without sending a byte
        });
        await using var connect = EchokitProcess.Start(["connect", "--encoding", "latin1", server.Endpoint]);

        await connect.WriteAsync("€\n");
        connect.CloseInput();
        var code = await connect.WaitForExitAsync();

        Assert.Equal(1, code);
        Assert.Equal($"echokit: {server.Endpoint}: '€' cannot be encoded in latin1\n", connect.Stderr);
        Assert.Equal(0, await wire.Task.WaitAsync(TestTimeouts.Default));
    }
}
