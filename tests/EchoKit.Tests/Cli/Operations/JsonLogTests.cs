using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Operations;

/// <summary>Structured logs: every connection event names its listener and its client.</summary>
[Trait("Kind", "Cli")]
public sealed partial class JsonLogTests
{
    [Fact]
    public async Task EveryConnectionEventCarriesListenerAndClientAddress()
    {
        await using var server = EchokitProcess.Start(["serve", "--tcp", "127.0.0.1:0", "--log-format", "json", "--verbose", "--dump", "hex"]);
        var tcp = (await server.WaitForListenersAsync(1)).Single();

        await MetricsEndpointTests.EchoAsync(tcp, "logged"u8.ToArray());
        using (var reset = new TcpClient())
        {
            await reset.ConnectAsync(tcp.Host, tcp.Port);
            await reset.GetStream().WriteAsync("x"u8.ToArray());
            reset.Client.LingerState = new LingerOption(true, 0); // close with RST: a reset event
        }
        await server.WaitForLineAsync(ClosedLine());
        await server.WaitForLineAsync(ClosedLine());

        var events = server.Stdout.Split('\n').Concat(server.Stderr.Split('\n'))
            .Where(l => l.StartsWith('{'))
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.TryGetProperty("connection_id", out _))
            .ToArray();
        var names = events.Select(e => e.GetProperty("event").GetString()).ToHashSet();

        Assert.Superset(new HashSet<string?> { "ConnectionOpened", "Data", "ConnectionClosed" }, names);
        foreach (var e in events)
        {
            Assert.Equal($"tcp://{tcp.Authority}", e.GetProperty("listener").GetString());
            Assert.Matches(ClientAddress(), e.GetProperty("remote").GetString());
        }
    }

    [GeneratedRegex(@"""event"":""ConnectionClosed""")]
    private static partial Regex ClosedLine();

    [GeneratedRegex(@"^127\.0\.0\.1:\d+$")]
    private static partial Regex ClientAddress();
}
