using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace EchoKit.Server.Reflect;

/// <summary>The reflect service's log events (ids 1300-1399).</summary>
internal static partial class ReflectLog
{
    [LoggerMessage(EventId = 1300, EventName = "ReflectAcceptFailed", Level = LogLevel.Warning, Message = "reflect accept on {Listener} failed ({SocketError}); retrying in {DelayMs} ms")]
    public static partial void AcceptFailed(ILogger logger, string listener, SocketError socketError, double delayMs);

    [LoggerMessage(EventId = 1301, EventName = "ReflectConnectionLost", Level = LogLevel.Debug, Message = "reflect connection lost ({SocketError})")]
    public static partial void ConnectionLost(ILogger logger, SocketError socketError);

    [LoggerMessage(EventId = 1302, EventName = "ReflectConnectionFault", Level = LogLevel.Error, Message = "reflect connection failed")]
    public static partial void ConnectionFault(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1303, EventName = "ReflectReceiveFault", Level = LogLevel.Error, Message = "reflect UDP receive on {Listener} failed")]
    public static partial void ReceiveFault(ILogger logger, string listener, Exception exception);

    [LoggerMessage(EventId = 1304, EventName = "ReflectDatagramFault", Level = LogLevel.Error, Message = "reflect UDP on {Listener}: a request could not be answered; serving on")]
    public static partial void DatagramFault(ILogger logger, string listener, Exception exception);
}
