namespace EchoKit.Probe;

/// <summary>A probe could not run: the server is unreachable, or no reflect service answers there. The message is one line.</summary>
public sealed class ProbeException(string message, Exception? inner = null) : Exception(message, inner);
