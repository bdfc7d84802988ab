using EchoKit.Endpoints;
using EchoKit.Server.ProxyProtocol;
using SharpFuzz;

// One target per run, chosen by name; AFL++ feeds each input on stdin (SharpFuzz's out-of-process mode).
// An exception that is not the target's documented failure escapes and AFL++ records it as a crash.
switch (args.FirstOrDefault())
{
    case "proxy":
        Fuzzer.OutOfProcess.Run(stream =>
        {
            var data = ReadAll(stream);
            var result = ProxyHeaderParser.Parse(data);
            if (result.Status == ProxyParseStatus.Complete && (result.Length <= 0 || result.Length > data.Length || result.Header is null))
            {
                throw new InvalidOperationException($"complete header of length {result.Length} in {data.Length} bytes");
            }
            // Whatever the parser accepts, a v2 bound only ever shrinks what it accepts.
            var bounded = ProxyHeaderParser.Parse(data, maxV2Length: 232);
            if (bounded.Status == ProxyParseStatus.Complete && result.Status != ProxyParseStatus.Complete)
            {
                throw new InvalidOperationException("a tighter bound accepted what the default refused");
            }
        });
        return 0;
    case "endpoint":
        Fuzzer.OutOfProcess.Run(stream =>
        {
            var text = new StreamReader(stream).ReadToEnd();
            if (EndpointParser.TryParse(text, out var endpoint, out var error))
            {
                if (endpoint.Port is < 0 or > 65535)
                {
                    throw new InvalidOperationException($"port {endpoint.Port} out of range");
                }
                // What parses once parses again to the same thing (the text it keeps is the trimmed input).
                if (EndpointParser.Parse(endpoint.Text) != endpoint)
                {
                    throw new InvalidOperationException($"'{endpoint.Text}' does not parse back to itself");
                }
            }
            else if (string.IsNullOrWhiteSpace(error))
            {
                throw new InvalidOperationException("refused without a reason");
            }
        });
        return 0;
    default:
        Console.Error.WriteLine("usage: EchoKit.Fuzz proxy|endpoint  (input on stdin, run under afl-fuzz)");
        return 2;
}

static byte[] ReadAll(Stream stream)
{
    using var buffer = new MemoryStream();
    stream.CopyTo(buffer);
    return buffer.ToArray();
}
