namespace EchoKit.Tests.Faults;

/// <summary>
/// The fault suites count the descriptors of the whole test process, so they run alone: a test of another class
/// opening sockets at the same time would pass for a leak.
/// </summary>
[CollectionDefinition(nameof(FaultsCollection), DisableParallelization = true)]
public sealed class FaultsCollection;
