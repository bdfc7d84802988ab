namespace EchoKit.Bench.Internal;

/// <summary>Why a connection attempt or an open connection failed; counted per reason, never ending the run.</summary>
internal enum BenchError
{
    Refused,
    Reset,
    TimedOut,
    ClosedByServer,
    Unreachable,
    AddressNotAvailable,
    Other,
}
