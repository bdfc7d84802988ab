namespace EchoKit.Server.Reflect;

/// <summary>What a reflect request asks for (docs/reflect.md).</summary>
internal enum ReflectOperation
{
    /// <summary><c>info</c>: answer at once with what the server observed.</summary>
    Info,
    /// <summary><c>echo</c>: the same, padded to <c>size</c> bytes (UDP: never more than the request's size).</summary>
    Echo,
    /// <summary><c>hold</c>: answer after <c>after_ms</c> milliseconds of silence (the inbound idle check).</summary>
    Hold,
}
