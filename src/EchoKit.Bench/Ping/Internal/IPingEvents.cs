namespace EchoKit.Ping.Internal;

/// <summary>What probers report besides probe outcomes; the session counts it and passes it to the observer, serialized.</summary>
internal interface IPingEvents
{
    void Resolved(PingResolved resolved);

    void Connected(PingConnected connected);

    void Disconnected(string reason);

    void Stray(PingStray stray);
}
