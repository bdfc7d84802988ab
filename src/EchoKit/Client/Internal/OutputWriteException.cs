namespace EchoKit.Client.Internal;

/// <summary>
/// Writing the output (standard output) failed: not the network's fault, reported as such, in the system's words
/// (<see cref="ClientErrors.DescribeStreamError"/>).
/// </summary>
internal sealed class OutputWriteException(Exception inner) : Exception(ClientErrors.DescribeStreamError(inner) ?? inner.Message, inner);
