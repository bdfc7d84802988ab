namespace EchoKit.Server;

/// <summary>The transport a listener speaks.</summary>
public enum ListenProtocol
{
    /// <summary>TCP stream echo: every byte back, in order.</summary>
    Tcp,
}
