namespace EchoKit.Cli.Parsing;

/// <summary>The examples and exit codes that end each command's help, keyed by the command's path ("bench merge").</summary>
internal static class CommandHelp
{
    private static readonly Dictionary<string, string[]> ExampleTable = new(StringComparer.Ordinal)
    {
        [""] =
        [
            "echokit serve                              # TCP echo on :50007, all interfaces",
            "echokit send 127.0.0.1:50007 hello         # send, check the echo, exit 0 if it matched",
            "echokit connect localhost:50007            # talk by hand, like nc",
            "echokit bench :50007 --connections 50      # load it and measure",
        ],
        ["serve"] =
        [
            "echokit serve --tcp :7 --udp :7",
            "echokit serve --tcp 127.0.0.1:0 --metrics 127.0.0.1:9100 --log-format json",
            "echokit serve --tls :7443 --tls-cert server.pem --unix /run/echo.sock --max-connections 10k",
            "echokit serve --config echokit.json --print-config",
        ],
        ["send"] =
        [
            "echokit send :50007 hello world",
            "echokit send -v example.org:7 --udp",
            "echokit send --tls --ca ca.pem echo.example.org:7443 hi",
            "echokit send -U /run/echo.sock -f big.bin",
            "echokit send :50007 -- -n           # send the text \"-n\"",
        ],
        ["connect"] =
        [
            "echokit connect localhost:50007",
            "echokit connect -u 127.0.0.1:7             # UDP: one datagram per line",
            "echokit connect --tls -k mail.example.org:993",
            "echokit connect -C smtp.example.org:25     # CRLF line ends",
            "echokit connect -U /run/echo.sock",
        ],
        ["bench"] =
        [
            "echokit bench :50007 -c 50 -t 10s            # 50 connections for 10 s",
            "echokit bench :50007 -c 8 -i 1s -n 1M        # a line per second, stop after 10^6 messages",
            "echokit bench :50007 --rate 10k -l 64KiB --json > run1.json",
            "echokit bench --udp -l 1k 127.0.0.1:7 --assert 'loss<0.1%'",
        ],
        ["bench merge"] =
        [
            "echokit bench merge run1.json run2.json",
            "echokit bench merge --json run*.json > all.json",
        ],
        ["ping"] =
        [
            "echokit ping localhost:50007 -c 10                # 10 echo probes, then loss, percentiles, jitter",
            "echokit ping example.org:443 --connect -i 200ms   # handshake time of any TCP port, 5 a second",
            "echokit ping -u 127.0.0.1:7 -c 100 -i 10ms -q     # UDP: loss, late, duplicate, reordered",
            "echokit ping --tls --ca ca.pem host:7443 -c 5     # TLS handshake, then echo",
            "echokit ping host:7 --deadline 1m --json-stream   # a JSON object per probe for a minute",
        ],
        ["probe"] =
        [
            "echokit serve --reflect-tcp :7007 --reflect-udp :7007   # on the far side: the reflect service",
            "echokit probe nat 198.51.100.7:7007                     # NAT, DSCP, MSS clamping, hops",
            "echokit probe idle 198.51.100.7:7007 --max 5m           # how long idle flows survive",
            "echokit probe mtu 198.51.100.7:7007                     # largest UDP payload with DF set",
            "echokit probe lb lb.example.org:7007 -n 50              # which instance answers each connection",
        ],
        ["probe nat"] =
        [
            "echokit probe nat 198.51.100.7:7007",
            "echokit probe nat 198.51.100.7:7007 --dscp 46 --json    # is EF rewritten on the way?",
        ],
        ["probe idle"] =
        [
            "echokit probe idle 198.51.100.7:7007 --max 5m",
            "echokit probe idle 198.51.100.7:7007 --no-udp --max 2m --json > idle.json",
        ],
        ["probe mtu"] =
        [
            "echokit probe mtu 198.51.100.7:7007",
            "echokit probe mtu [2001:db8::7]:7007 --timeout 1s --json",
        ],
        ["probe lb"] =
        [
            "echokit probe lb lb.example.org:7007 -n 50",
            "echokit probe lb lb.example.org:7007 --udp --json",
        ],
    };

    private static readonly string[] ClientExitCodes =
    [
        "0    the echo came back unchanged",
        "1    failed: refused, timed out, closed early, mismatch, TLS error, standard input or output unusable",
        "2    usage: a bad option, value or endpoint",
        "130  stopped by SIGINT (Ctrl+C); 143 by SIGTERM",
    ];

    private static readonly string[] ProbeExitCodes =
    [
        "0    the probe completed, whatever it found",
        "1    it could not: server unreachable, no reflect service there (an echo port?), refused",
        "2    usage: a bad option, value or endpoint",
        "130  interrupted by SIGINT (Ctrl+C); 143 by SIGTERM",
        "141  nobody reads the output any more (| head): the probe stopped",
    ];

    private static readonly Dictionary<string, string[]> ExitCodeTable = new(StringComparer.Ordinal)
    {
        [""] = ["0 ok, 1 failed, 2 usage error, 3 an --assert failed, 130/143 stopped by SIGINT/SIGTERM (serve: 0 after a clean drain, also on SIGHUP; ping: its summary and the code of its results), 141 output closed; see each command's --help"],
        ["serve"] =
        [
            "0    stopped by SIGINT/SIGTERM/SIGHUP after a clean drain (or --print-config printed)",
            "1    could not start: address in use, permission, a config or certificate file unreadable, a certificate or key unusable",
            "2    usage: a bad option, value, endpoint or combination",
            "130  a second SIGINT forced the stop before the drain ended; 143 a second SIGTERM; 129 a second SIGHUP",
        ],
        ["send"] = ClientExitCodes,
        ["connect"] =
        [
            "0    the session ended normally (the peer closed, or UDP replies stopped)",
            "1    failed: refused, timed out, reset, TLS error",
            "2    usage: a bad option, value or endpoint",
            "130  stopped by SIGINT (Ctrl+C); 143 by SIGTERM",
        ],
        ["bench"] =
        [
            "0    the run completed with no error and no mismatch",
            "1    errors, mismatches or no connection",
            "2    usage: a bad option, value or endpoint",
            "3    an --assert expression did not hold",
            "130  stopped by SIGINT (Ctrl+C); 143 by SIGTERM",
            "141  nobody reads the --interval or --json-stream lines any more (| head): the run stopped",
        ],
        ["ping"] =
        [
            "0    every probe was answered (with --assert: every assertion held); Ctrl+C ends the run the same way",
            "1    a probe went unanswered (timeout, refused, error) or an echo did not match",
            "2    usage: a bad option, value or endpoint",
            "3    an --assert expression did not hold",
            "141  nobody reads the output any more (| head): the ping stopped",
        ],
        ["bench merge"] =
        [
            "0    merged",
            "1    a file could not be read or is not a bench result",
            "2    usage: a bad option or no file",
        ],
        ["probe"] = ProbeExitCodes,
        ["probe nat"] = ProbeExitCodes,
        ["probe idle"] = ProbeExitCodes,
        ["probe mtu"] = ProbeExitCodes,
        ["probe lb"] = ProbeExitCodes,
    };

    public static IReadOnlyList<string> Examples(string path) => ExampleTable.TryGetValue(path, out var lines) ? lines : [];

    public static IReadOnlyList<string> ExitCodes(string path) => ExitCodeTable.TryGetValue(path, out var lines) ? lines : [];
}
