using EchoKit.Endpoints;
using EchoKit.Ping;

namespace EchoKit.Cli.Output;

/// <summary>
/// Prints a ping session as it goes: a line per probe, transitions and stray answers (text), a JSON object per probe
/// (<c>--json-stream</c>), or nothing (<c>-q</c>, <c>--json</c>). Calls come serialized from the session.
/// </summary>
internal sealed class PingConsoleObserver(TextWriter output, PingOutputMode mode, string target, bool named) : IPingObserver
{
    public void OnResolved(PingResolved resolved)
    {
        if (mode != PingOutputMode.Text)
        {
            return;
        }
        var address = EndpointResolver.FormatEndPoint(resolved.Address);
        if (resolved.Sequence > 0)
        {
            output.WriteLine($"seq={resolved.Sequence}: {target} now resolves to {address}");
        }
        else if (named)
        {
            output.WriteLine($"resolved {target} to {address} in {PingText.Ms(resolved.Elapsed)} ms");
        }
    }

    public void OnConnected(PingConnected connected)
    {
        if (mode == PingOutputMode.Text)
        {
            output.WriteLine(PingText.Connected(connected));
        }
    }

    public void OnDisconnected(string reason)
    {
        if (mode == PingOutputMode.Text)
        {
            output.WriteLine($"connection lost: {reason}");
        }
    }

    public void OnReply(PingReply reply)
    {
        switch (mode)
        {
            case PingOutputMode.Text:
                output.WriteLine(PingText.Reply(reply));
                break;
            case PingOutputMode.JsonStream:
                output.WriteLine(PingJson.ProbeEvent(reply));
                break;
        }
    }

    public void OnTransition(PingTransition transition)
    {
        if (mode == PingOutputMode.Text)
        {
            output.WriteLine(PingText.Transition(transition));
        }
    }

    public void OnStray(PingStray stray)
    {
        if (mode == PingOutputMode.Text)
        {
            output.WriteLine(PingText.Stray(stray));
        }
    }
}
