namespace EchoKit.Ping.Internal;

/// <summary>A connection, or why there is none (the outcome every probe waiting for it reports).</summary>
internal readonly record struct ConnectAttempt(EchoConnection? Connection, ProbeOutcome Failure);
