namespace EchoKit.Client.Internal;

/// <summary>Writing the output (standard output) failed: not the network's fault, reported as such.</summary>
internal sealed class OutputWriteException(IOException inner) : Exception(inner.Message, inner);
