namespace EchoKit.Ping.Internal;

/// <summary>What settled an echo probe: its echo (verified or not, with the arrival time) or the connection's end.</summary>
internal readonly record struct EchoAnswer(PingStatus Status, long ArrivedAt, string? Detail);
