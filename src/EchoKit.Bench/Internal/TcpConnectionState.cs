namespace EchoKit.Bench.Internal;

/// <summary>Where a load connection is in its life.</summary>
internal enum TcpConnectionState
{
    /// <summary>Not connected; (re)connects at <see cref="TcpConnection.RetryAtTicks"/>.</summary>
    Idle,

    /// <summary>A non-blocking connect is under way.</summary>
    Connecting,

    /// <summary>Connected and carrying messages.</summary>
    Open,
}
