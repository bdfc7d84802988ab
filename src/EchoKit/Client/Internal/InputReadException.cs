namespace EchoKit.Client.Internal;

/// <summary>Reading the input failed, or it cannot be sent as asked (a line too long for a datagram).</summary>
internal sealed class InputReadException(string message, Exception? inner = null) : Exception(message, inner);
