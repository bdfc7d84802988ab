namespace EchoKit.Server.Internal;

/// <summary>A bound listener owned by <see cref="EchoServer"/>: it runs until told to stop accepting.</summary>
internal interface IEchoListener : IAsyncDisposable
{
    /// <summary>What was bound, for the <c>listening</c> line.</summary>
    BoundListener Bound { get; }

    /// <summary>Starts accepting (or receiving, for datagrams). The returned task is the listener's loop.</summary>
    Task RunAsync();

    /// <summary>Stops taking new clients at once (closes the listening socket); open connections go on.</summary>
    void StopAccepting();
}
